import { createHash } from 'node:crypto'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { VsdbError } from './errors.ts'
import { describeZodError, envelopeSchema, type EventType, type PayloadOf, payloadSchemas } from './schema.ts'

export const DAG_CBOR = 0x71
export const RAW = 0x55
export const SHA2_256 = 0x12

export interface Block {
  cid: CID
  bytes: Uint8Array
}

export interface UnsignedEvent<T extends EventType = EventType> {
  v: 1
  type: T
  node: string
  seq: number
  ts: number
  prev: CID | null
  payload: PayloadOf<T>
}

export interface SignedEvent<T extends EventType = EventType> extends UnsignedEvent<T> {
  sig: Uint8Array
}

export function sha256(bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest()
}

export function cidFor(bytes: Uint8Array, codec: number = DAG_CBOR): CID {
  return CID.createV1(codec, Digest.create(SHA2_256, sha256(bytes)))
}

/** Encodes any DAG-CBOR value as a block addressed by its sha2-256 CID. */
export function encodeBlock(value: unknown): Block {
  const bytes = dagCbor.encode(value)
  return { cid: cidFor(bytes), bytes }
}

/** True when the bytes hash to the CID's multihash (sha2-256 only: the one hash this project writes). */
export function bytesMatchCid(cid: CID, bytes: Uint8Array): boolean {
  if (cid.multihash.code !== SHA2_256) return false
  return Buffer.from(sha256(bytes)).equals(cid.multihash.digest)
}

export function encodeUnsigned(event: UnsignedEvent): Uint8Array {
  return dagCbor.encode(event)
}

export function validatePayload<T extends EventType>(type: T, payload: unknown): PayloadOf<T> {
  const parsed = payloadSchemas[type].safeParse(payload)
  if (!parsed.success) {
    const { field, message } = describeZodError(parsed.error, 'payload')
    throw new VsdbError('INVALID_EVENT', `${type} event: ${field}: ${message}`, { field })
  }
  return parsed.data as PayloadOf<T>
}

/**
 * Decodes an event block: DAG-CBOR, the envelope schema, the payload schema of its type, and canonical
 * encoding (re-encoding must give the same bytes, so one event has exactly one CID).
 * The signature is checked by the caller (see keys.ts), which may batch it.
 */
export function decodeEvent(cid: CID, bytes: Uint8Array): SignedEvent {
  let value: unknown
  try {
    value = dagCbor.decode(bytes)
  } catch (err) {
    throw new VsdbError('INVALID_EVENT', `block ${cid} is not valid DAG-CBOR: ${(err as Error).message}`, {
      cid: cid.toString(),
    })
  }
  const envelope = envelopeSchema.safeParse(value)
  if (!envelope.success) {
    const { field, message } = describeZodError(envelope.error)
    throw new VsdbError('INVALID_EVENT', `block ${cid} is not an event: ${field}: ${message}`, {
      cid: cid.toString(),
      field,
    })
  }
  const event = envelope.data
  const payload = validatePayload(event.type, event.payload)
  const signed = { ...event, payload } as SignedEvent
  if (!Buffer.from(dagCbor.encode(signed)).equals(bytes)) {
    throw new VsdbError('INVALID_EVENT', `block ${cid} is not canonical DAG-CBOR`, { cid: cid.toString() })
  }
  return signed
}

/** Every CID a payload links to (its own blocks: observation batches, segment data, referenced events). */
export function payloadLinks(payload: unknown, out: CID[] = []): CID[] {
  const cid = CID.asCID(payload)
  if (cid != null) {
    out.push(cid)
  } else if (Array.isArray(payload)) {
    for (const item of payload) payloadLinks(item, out)
  } else if (payload != null && typeof payload === 'object' && !(payload instanceof Uint8Array)) {
    for (const item of Object.values(payload)) payloadLinks(item, out)
  }
  return out
}

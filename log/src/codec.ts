import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { VsdbError } from './errors.ts'
import { cidFor, DAG_CBOR, RAW, SHA2_256, sha256, spliceSignature } from './event-bytes.ts'
import { describeZodError, type EventType, envelopeSchema, type PayloadOf, payloadSchemas } from './schema.ts'

export { cidFor, DAG_CBOR, RAW, SHA2_256, sha256, spliceSignature } from './event-bytes.ts'

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

/**
 * Blocks this process addressed itself (encodeBlock, rawBlock), with the CID and bytes they were made with: a block
 * whose fields are still those very objects needs no second hash when it is appended (a changed field, or any other
 * block, is hashed).
 */
const addressed = new WeakMap<Block, { cid: CID; bytes: Uint8Array }>()

function addressedBlock(bytes: Uint8Array, codec: number): Block {
  const cid = cidFor(bytes, codec)
  const block = { cid, bytes }
  addressed.set(block, { cid, bytes })
  return block
}

/** Encodes any DAG-CBOR value as a block addressed by its sha2-256 CID. */
export function encodeBlock(value: unknown): Block {
  return addressedBlock(dagCbor.encode(value), DAG_CBOR)
}

/** Bytes as a raw block (codec 0x55) addressed by their sha2-256 CID. The bytes must not change after. */
export function rawBlock(bytes: Uint8Array): Block {
  return addressedBlock(bytes, RAW)
}

/** True when the block's bytes hash to its CID: at once for a block made by encodeBlock or rawBlock and left as it was. */
export function blockMatchesCid(block: Block): boolean {
  const made = addressed.get(block)
  if (made !== undefined && made.cid === block.cid && made.bytes === block.bytes) return true
  const cid = CID.asCID(block.cid)
  return cid !== null && bytesMatchCid(cid, block.bytes)
}

/** True when the bytes hash to the CID's multihash (sha2-256 only: the one hash this project writes). */
export function bytesMatchCid(cid: CID, bytes: Uint8Array): boolean {
  if (cid.multihash.code !== SHA2_256) return false
  return Buffer.from(sha256(bytes)).equals(cid.multihash.digest)
}

export function encodeUnsigned(event: UnsignedEvent): Uint8Array {
  return dagCbor.encode(event)
}

/** Encodes, signs and addresses an event: the bytes, the CID and the signed map. */
export function signEvent<T extends EventType>(
  unsigned: UnsignedEvent<T>,
  sign: (bytes: Uint8Array) => Uint8Array,
): { bytes: Uint8Array; cid: CID; event: SignedEvent<T> } {
  const message = encodeUnsigned(unsigned)
  const sig = sign(message)
  const bytes = spliceSignature(message, sig)
  return { bytes, cid: cidFor(bytes), event: { ...unsigned, sig } }
}

export function validatePayload<T extends EventType>(type: T, payload: unknown): PayloadOf<T> {
  if (typeof type !== 'string' || !Object.hasOwn(payloadSchemas, type)) {
    throw new VsdbError('INVALID_EVENT', `unknown event type ${JSON.stringify(type)}`, { field: 'type' })
  }
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
  return decodeEventWithMessage(cid, bytes).event
}

/** As decodeEvent, and also returns the signed message (the encoding without `sig`). */
export function decodeEventWithMessage(cid: CID, bytes: Uint8Array): { event: SignedEvent; message: Uint8Array } {
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
  const { sig, ...unsigned } = { ...event, payload } as SignedEvent
  const message = encodeUnsigned(unsigned)
  if (!Buffer.from(spliceSignature(message, sig)).equals(bytes)) {
    throw new VsdbError('INVALID_EVENT', `block ${cid} is not canonical DAG-CBOR`, { cid: cid.toString() })
  }
  return { event: { ...unsigned, sig }, message }
}

/**
 * Decodes an event block read back from this node's own store, whose bytes match their CID: every event block
 * the store indexes passed decodeEvent's checks (schema, canonical form) and its signature check when it was
 * written, and the hash pins those bytes, so the checks are not run again on every read (a replay reads the
 * whole log). Anything from outside goes through decodeEvent.
 */
export function decodeStoredEvent(cid: CID, bytes: Uint8Array): SignedEvent {
  try {
    return dagCbor.decode(bytes) as SignedEvent
  } catch (err) {
    throw new VsdbError('INVALID_EVENT', `block ${cid} is not valid DAG-CBOR: ${(err as Error).message}`, { cid: cid.toString() })
  }
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

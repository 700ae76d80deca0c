import { createHash } from 'node:crypto'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { VsdbError } from './errors.ts'
import { describeZodError, type EventType, envelopeSchema, type PayloadOf, payloadSchemas } from './schema.ts'

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

function cborIntLength(bytes: Uint8Array, offset: number): number {
  const info = (bytes[offset] ?? 0) & 0x1f
  return info < 24 ? 1 : info === 24 ? 2 : info === 25 ? 3 : info === 26 ? 5 : 9
}

// "sig" as a CBOR text key, then the header of a 64-byte byte string.
const SIG_ENTRY = Uint8Array.of(0x63, 0x73, 0x69, 0x67, 0x58, 0x40)
const SIG_ENTRY_LENGTH = SIG_ENTRY.length + 64

/**
 * DAG-CBOR orders map keys by length, then bytes: v, ts, seq, sig, node, prev, type, payload. So the signed
 * event is the unsigned encoding with one 70-byte entry spliced in after `seq` (and a map header of 8, not 7):
 * signing and verifying need one encode instead of two. Tests compare it with a full encode.
 */
function afterSeq(unsigned: Uint8Array): number {
  if (unsigned[0] !== 0xa7 || unsigned[1] !== 0x61 || unsigned[2] !== 0x76 || unsigned[3] !== 0x01) {
    throw new VsdbError('INVALID_EVENT', 'unsigned event does not start with {v: 1}')
  }
  let offset = 4 + 3 // map header, "v": 1, then the "ts" key
  offset += cborIntLength(unsigned, offset)
  offset += 4 // "seq" key
  return offset + cborIntLength(unsigned, offset)
}

export function spliceSignature(unsigned: Uint8Array, sig: Uint8Array): Uint8Array {
  const cut = afterSeq(unsigned)
  const out = new Uint8Array(unsigned.length + SIG_ENTRY_LENGTH)
  out[0] = 0xa8
  out.set(unsigned.subarray(1, cut), 1)
  out.set(SIG_ENTRY, cut)
  out.set(sig, cut + SIG_ENTRY.length)
  out.set(unsigned.subarray(cut), cut + SIG_ENTRY_LENGTH)
  return out
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

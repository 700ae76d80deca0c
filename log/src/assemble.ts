import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { cidFor, spliceSignature } from './event-bytes.ts'

/** What the chain needs to sign one event once its payload is encoded: the rest comes from the head. */
export interface EventDraft {
  type: string
  ts: number
  /** The payload's own DAG-CBOR bytes (a map encodes the same alone or nested). */
  payload: Uint8Array
}

export interface SignedDraft {
  bytes: Uint8Array
  cid: CID
  sig: Uint8Array
}

const MAP_OF_7 = Uint8Array.of(0xa7)
const V_IS_1 = Uint8Array.of(0x61, 0x76, 0x01)
const key = (name: string) => dagCbor.encode(name)
const KEY_TS = key('ts')
const KEY_SEQ = key('seq')
const KEY_NODE = key('node')
const KEY_PREV = key('prev')
const KEY_TYPE = key('type')
const KEY_PAYLOAD = key('payload')

const encodedStrings = new Map<string, Uint8Array>()
function encodedString(value: string): Uint8Array {
  let bytes = encodedStrings.get(value)
  if (bytes === undefined) {
    bytes = dagCbor.encode(value)
    if (encodedStrings.size < 1024) encodedStrings.set(value, bytes)
  }
  return bytes
}

const TWO_32 = 2 ** 32

/** A safe integer as DAG-CBOR writes it (the shortest head of major type 0 or 1); anything else through dag-cbor. */
function encodeInt(value: number): Uint8Array {
  if (!Number.isSafeInteger(value)) return dagCbor.encode(value)
  const major = value < 0 ? 0x20 : 0
  const n = value < 0 ? -1 - value : value
  if (n < 24) return Uint8Array.of(major | n)
  if (n < 0x100) return Uint8Array.of(major | 24, n)
  if (n < 0x10000) return Uint8Array.of(major | 25, n >> 8, n & 0xff)
  const out = new Uint8Array(n < TWO_32 ? 5 : 9)
  const view = new DataView(out.buffer)
  out[0] = major | (n < TWO_32 ? 26 : 27)
  if (n < TWO_32) view.setUint32(1, n)
  else {
    view.setUint32(1, Math.floor(n / TWO_32))
    view.setUint32(5, n % TWO_32)
  }
  return out
}

const NULL = Uint8Array.of(0xf6)

/** A CID as DAG-CBOR links it: tag 42 over its bytes behind a 0x00 (the identity multibase). */
function encodeLink(cid: CID | null): Uint8Array {
  if (cid === null) return NULL
  const length = cid.bytes.length + 1
  if (length < 24 || length > 0xff) return dagCbor.encode(cid)
  const out = new Uint8Array(5 + cid.bytes.length)
  out.set([0xd8, 42, 0x58, length, 0x00])
  out.set(cid.bytes, 5)
  return out
}

/**
 * The unsigned event's DAG-CBOR from its parts, in DAG-CBOR key order (v, ts, seq, node, prev, type,
 * payload): equal to encoding the whole map (a test checks it), without re-encoding the payload for every
 * link of the chain.
 */
export function assembleUnsigned(node: string, seq: number, prev: CID | null, draft: EventDraft): Uint8Array {
  return Buffer.concat([
    MAP_OF_7,
    V_IS_1,
    KEY_TS,
    encodeInt(draft.ts),
    KEY_SEQ,
    encodeInt(seq),
    KEY_NODE,
    encodedString(node),
    KEY_PREV,
    encodeLink(prev),
    KEY_TYPE,
    encodedString(draft.type),
    KEY_PAYLOAD,
    draft.payload,
  ])
}

/** Signs drafts in chain order after `head`: each event's `prev` is the CID of the one before. */
export function signDrafts(
  node: string,
  sign: (bytes: Uint8Array) => Uint8Array,
  head: { seq: number; cid: CID } | null,
  drafts: EventDraft[],
): SignedDraft[] {
  const out: SignedDraft[] = []
  let seq = head === null ? 0 : head.seq + 1
  let prev = head === null ? null : head.cid
  for (const draft of drafts) {
    const message = assembleUnsigned(node, seq, prev, draft)
    const sig = sign(message)
    const bytes = spliceSignature(message, sig)
    const cid = cidFor(bytes)
    out.push({ bytes, cid, sig })
    prev = cid
    seq++
  }
  return out
}

/**
 * Signed drafts in one buffer, to cross threads by transfer: cloning hundreds of small byte arrays, one
 * message per slice, cost the worker a third as much again as signing them.
 */
export interface PackedSigned {
  /** Each event's bytes, then its CID, then its signature, event after event. */
  data: Uint8Array<ArrayBuffer>
  /** Per event: the length of its bytes, then of its CID. */
  lengths: Uint32Array
}

export function packSigned(signed: SignedDraft[]): PackedSigned {
  let size = 0
  for (const { bytes, cid, sig } of signed) size += bytes.length + cid.bytes.length + sig.length
  const data = new Uint8Array(size)
  const lengths = new Uint32Array(signed.length * 2)
  let offset = 0
  for (const [i, { bytes, cid, sig }] of signed.entries()) {
    data.set(bytes, offset)
    data.set(cid.bytes, offset + bytes.length)
    data.set(sig, offset + bytes.length + cid.bytes.length)
    offset += bytes.length + cid.bytes.length + sig.length
    lengths[2 * i] = bytes.length
    lengths[2 * i + 1] = cid.bytes.length
  }
  return { data, lengths }
}

const SIG_LENGTH = 64

export function unpackSigned({ data, lengths }: PackedSigned): SignedDraft[] {
  const out: SignedDraft[] = new Array(lengths.length / 2)
  let offset = 0
  for (let i = 0; i < out.length; i++) {
    const bytesEnd = offset + (lengths[2 * i] as number)
    const cidEnd = bytesEnd + (lengths[2 * i + 1] as number)
    const sigEnd = cidEnd + SIG_LENGTH
    out[i] = {
      bytes: data.subarray(offset, bytesEnd),
      cid: CID.decode(data.subarray(bytesEnd, cidEnd)),
      sig: data.subarray(cidEnd, sigEnd),
    }
    offset = sigEnd
  }
  return out
}

/** Drafts in one buffer, the other way: the payloads end to end, with each draft's type, time and payload length. */
export interface PackedDrafts {
  types: string[]
  ts: Float64Array<ArrayBuffer>
  lengths: Uint32Array<ArrayBuffer>
  payloads: Uint8Array<ArrayBuffer>
}

export function packDrafts(drafts: EventDraft[]): PackedDrafts {
  let size = 0
  for (const { payload } of drafts) size += payload.length
  const packed: PackedDrafts = {
    types: drafts.map((draft) => draft.type),
    ts: Float64Array.from(drafts, (draft) => draft.ts),
    lengths: Uint32Array.from(drafts, (draft) => draft.payload.length),
    payloads: new Uint8Array(size),
  }
  let offset = 0
  for (const { payload } of drafts) {
    packed.payloads.set(payload, offset)
    offset += payload.length
  }
  return packed
}

export function unpackDrafts({ types, ts, lengths, payloads }: PackedDrafts): EventDraft[] {
  const out: EventDraft[] = new Array(types.length)
  let offset = 0
  for (let i = 0; i < out.length; i++) {
    const end = offset + (lengths[i] as number)
    out[i] = { type: types[i] as string, ts: ts[i] as number, payload: payloads.subarray(offset, end) }
    offset = end
  }
  return out
}

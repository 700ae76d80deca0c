import { hash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { VsdbError } from './errors.ts'

// The byte-level half of the codec, without the schemas: the signing worker loads this, and zod takes longer
// to load than the worker takes to start.

export const DAG_CBOR = 0x71
export const RAW = 0x55
export const SHA2_256 = 0x12

export function sha256(bytes: Uint8Array): Uint8Array {
  return hash('sha256', bytes, 'buffer')
}

export function cidFor(bytes: Uint8Array, codec: number = DAG_CBOR): CID {
  return CID.createV1(codec, Digest.create(SHA2_256, sha256(bytes)))
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

/**
 * Floats that are not decimals, coded as in Gorilla (Pelkonen et al., VLDB 2015): each value is XORed with the
 * previous one; a zero XOR is one flag, otherwise the count of leading zeros, the count of trailing zeros and
 * the bits between them. Where Gorilla writes the counts as fixed fields and reuses the previous window, here
 * the flag and both counts go through adaptive contexts (a 6-bit binary tree each), which learns the same
 * regularity; the bits between the two outer ones are sent as they are.
 */
import { corrupt } from './errors.ts'
import { field, fromWords, hiWord, loWord } from './float-bits.ts'
import { type BitSink, newProbs, type Probs, type RangeDecoder } from './range-coder.ts'

const ZERO = 0 // 2 contexts: was the previous XOR zero
const LEAD = 2 // 64: leading zeros, binary tree
const TRAIL = LEAD + 64 // 64: trailing zeros, binary tree
const SIZE = TRAIL + 64

export function newXorProbs(): Probs {
  return newProbs(SIZE)
}

export function resetXorProbs(probs: Probs): void {
  probs.p.fill(32768)
  probs.n.fill(0)
}

function putTree(sink: BitSink, probs: Probs, base: number, v: number): void {
  let node = 1
  for (let i = 5; i >= 0; i--) {
    const bit = (v >>> i) & 1
    sink.bit(probs, base + node, bit)
    node = node * 2 + bit
  }
}

function getTree(src: RangeDecoder, probs: Probs, base: number): number {
  let node = 1
  for (let i = 0; i < 6; i++) node = node * 2 + src.bit(probs, base + node)
  return node - 64
}

function clz64(hi: number, lo: number): number {
  return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo)
}

function ctz32(w: number): number {
  return w === 0 ? 32 : 31 - Math.clz32(w & -w)
}

function ctz64(hi: number, lo: number): number {
  return lo !== 0 ? ctz32(lo) : 32 + ctz32(hi)
}

/** Codes column[0..n) of one dimension. */
export function encodeXor(sink: BitSink, probs: Probs, column: ArrayLike<number>): void {
  let ph = hiWord(column[0]!)
  let pl = loWord(column[0]!)
  sink.direct(ph, 32)
  sink.direct(pl, 32)
  let wasZero = 0
  for (let i = 1; i < column.length; i++) {
    const x = column[i]!
    const h = hiWord(x)
    const l = loWord(x)
    const xh = (h ^ ph) >>> 0
    const xl = (l ^ pl) >>> 0
    ph = h
    pl = l
    if (xh === 0 && xl === 0) {
      sink.bit(probs, ZERO + wasZero, 1)
      wasZero = 1
      continue
    }
    sink.bit(probs, ZERO + wasZero, 0)
    wasZero = 0
    const lz = clz64(xh, xl)
    const tz = ctz64(xh, xl)
    putTree(sink, probs, LEAD, lz)
    putTree(sink, probs, TRAIL, tz)
    // Bits strictly between the leading one (at 63 - lz) and the trailing one (at tz).
    const top = 63 - lz
    if (top - tz >= 2) {
      const hiFrom = Math.max(32, tz + 1)
      if (top > hiFrom) sink.direct(field(xh, hiFrom - 32, top - hiFrom), top - hiFrom)
      const loTo = Math.min(32, top)
      if (loTo > tz + 1) sink.direct(field(xl, tz + 1, loTo - tz - 1), loTo - tz - 1)
    }
  }
}

export function decodeXor(src: RangeDecoder, probs: Probs, out: Float64Array, offset: number, stride: number, n: number): void {
  let ph = src.direct(32)
  let pl = src.direct(32)
  out[offset] = fromWords(ph, pl)
  let wasZero = 0
  for (let i = 1; i < n; i++) {
    if (src.bit(probs, ZERO + wasZero) === 1) {
      wasZero = 1
    } else {
      wasZero = 0
      const lz = getTree(src, probs, LEAD)
      const tz = getTree(src, probs, TRAIL)
      const top = 63 - lz
      if (tz > top) corrupt('an XOR window that ends before it starts')
      let xh = 0
      let xl = 0
      if (top >= 32) xh |= 1 << (top - 32)
      else xl |= 1 << top
      if (tz >= 32) xh |= 1 << (tz - 32)
      else xl |= 1 << tz
      if (top - tz >= 2) {
        const hiFrom = Math.max(32, tz + 1)
        if (top > hiFrom) xh |= src.direct(top - hiFrom) << (hiFrom - 32)
        const loTo = Math.min(32, top)
        if (loTo > tz + 1) xl |= src.direct(loTo - tz - 1) << (tz + 1)
      }
      ph = (ph ^ xh) >>> 0
      pl = (pl ^ xl) >>> 0
    }
    out[offset + i * stride] = fromWords(ph, pl)
  }
}

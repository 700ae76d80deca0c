/**
 * The bits of a float64 as two 32-bit words, and distances between floats counted in units in the last place
 * along the total order of the bit patterns (-0 sits just below +0), so a value that is one rounding step away
 * from a decimal is stored as "that decimal, one step down".
 */

import { pow2 } from './exact-math.ts'

const F64 = new Float64Array(1)
const U32 = new Uint32Array(F64.buffer)
/** Index of the high word in U32: 1 on little-endian machines. */
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0
const LO = 1 - HI
const TWO32 = 0x100000000
const MAG = 0x7fffffff
const SIGN = 0x80000000
/** Distances beyond this are "not near": the caller uses another representation. */
export const MAX_ULPS = pow2(50)

export function hiWord(x: number): number {
  F64[0] = x
  return U32[HI]!
}

export function loWord(x: number): number {
  F64[0] = x
  return U32[LO]!
}

export function fromWords(hi: number, lo: number): number {
  U32[HI] = hi
  U32[LO] = lo
  return F64[0]!
}

/** key(x) - key(y) in the total order of bit patterns, or NaN when it exceeds MAX_ULPS. */
export function ulpDistance(x: number, y: number): number {
  F64[0] = x
  const hx = U32[HI]!
  const lx = U32[LO]!
  F64[0] = y
  const hy = U32[HI]!
  const ly = U32[LO]!
  const sx = hx >>> 31
  const sy = hy >>> 31
  let d: number
  if (sx === sy) {
    const dh = (hx & MAG) - (hy & MAG)
    if (dh > 0x40000 || dh < -0x40000) return Number.NaN
    d = dh * TWO32 + (lx - ly)
    if (sx === 1) d = -d
  } else {
    // Opposite signs: key = mag for +, -mag - 1 for -; only near zero is the distance small.
    if ((hx & MAG) >= 0x40000 || (hy & MAG) >= 0x40000) return Number.NaN
    const mx = (hx & MAG) * TWO32 + lx
    const my = (hy & MAG) * TWO32 + ly
    d = sx === 0 ? mx + my + 1 : -mx - my - 1
  }
  return d > MAX_ULPS || d < -MAX_ULPS ? Number.NaN : d
}

/** The float `c` steps from `y` in the total order (the inverse of ulpDistance); NaN if it leaves the finite floats. */
export function addUlps(y: number, c: number): number {
  if (c === 0) return y
  F64[0] = y
  const hy = U32[HI]!
  const ly = U32[LO]!
  const negative = hy >>> 31 === 1
  const mh = hy & MAG
  // In magnitude terms: a positive y moves by +c, a negative one by -c (its key is -mag - 1).
  const step = negative ? -c : c
  if (mh >= 0x80000 || mh * TWO32 + ly + step >= 0) {
    // Stays on the same side of zero: mag + step, carried across the words.
    const t = ly + step
    const carry = Math.floor(t / TWO32)
    const hi = mh + carry
    if (hi < 0 || hi >= 0x7ff00000) return Number.NaN
    return fromWords((negative ? SIGN : 0) + hi, t - carry * TWO32)
  }
  // Crosses zero: the new magnitude is -(mag + step) - 1, on the other side.
  const m = -(mh * TWO32 + ly + step) - 1
  const hi = Math.floor(m / TWO32)
  return fromWords((negative ? 0 : SIGN) + hi, m - hi * TWO32)
}

/** Bits [start, start + count) of a 32-bit word, start ≤ 31, count ≤ 31. */
export function field(word: number, start: number, count: number): number {
  return count === 0 ? 0 : (word >>> start) & ((1 << count) - 1)
}

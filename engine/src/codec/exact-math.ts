/**
 * Arithmetic a decoder may depend on, built only from operations IEEE 754 specifies exactly (+, −, ×, ÷ and
 * comparisons, correctly rounded on every platform). Math.exp, Math.pow and friends are "implementation-
 * approximated" in ECMAScript: a future engine may round them differently, and a block whose decoding
 * depended on them (the prior tables, a step of 2^k) would then decode into other numbers. Blocks are an
 * archive, so everything the decoder computes comes from here or from plain arithmetic.
 */

/** 2^k for −1074 ≤ k ≤ 1023, by doubling and halving from 1: each step exact, subnormals included. */
const POW2 = (() => {
  const table = new Float64Array(1023 + 1074 + 1)
  table[1074] = 1
  for (let k = 1; k <= 1023; k++) table[1074 + k] = table[1074 + k - 1]! * 2
  for (let k = -1; k >= -1074; k--) table[1074 + k] = table[1074 + k + 1]! / 2
  return table
})()

/** 2^k exactly, for an integer k (0 below 2^-1074, Infinity above 2^1023). */
export function pow2(k: number): number {
  if (k < -1074) return 0
  if (k > 1023) return Number.POSITIVE_INFINITY
  return POW2[k + 1074]!
}

/** 10^k for 0 ≤ k ≤ 22, by multiplication: every one is an integer below 2^53 · 2^22, exactly representable. */
export const POW10: readonly number[] = (() => {
  const table = [1]
  for (let k = 1; k <= 22; k++) table.push(table[k - 1]! * 10)
  return table
})()

/** √x for x ≥ 0: scaled by powers of 4 into [1, 4), eight Newton steps, scaled back (deterministic). */
export function sqrt(x: number): number {
  if (!(x > 0)) return x === 0 ? 0 : Number.NaN
  if (x === Number.POSITIVE_INFINITY) return x
  let m = x
  let half = 0
  while (m >= 4) {
    m /= 4
    half++
  }
  while (m < 1) {
    m *= 4
    half--
  }
  let y = 1.5
  for (let i = 0; i < 8; i++) y = (y + m / y) / 2
  return y * pow2(half)
}

const LN2_HI = 0.6931471803691238
const LN2_LO = 1.9082149292705877e-10
const LN2 = LN2_HI + LN2_LO

/** e^-x for x ≥ 0: x = n·ln 2 + r with 0 ≤ r < ln 2, a Taylor series for e^-r, times 2^-n (deterministic). */
export function expNeg(x: number): number {
  if (!(x >= 0)) return Number.NaN
  if (x > 746) return 0
  const n = Math.floor(x / LN2)
  const r = x - n * LN2_HI - n * LN2_LO
  let term = 1
  let sum = 1
  for (let i = 1; i <= 24; i++) {
    term *= -r / i
    sum += term
  }
  return sum * pow2(-n)
}

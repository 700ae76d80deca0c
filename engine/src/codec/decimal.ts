/**
 * Floats that were written as decimals ("74.935882", "13.56", "10844") become integers: m = x · 10^k, decoded
 * as m / 10^k (or m · 10^-k for k < 0, integers with trailing zeros), which IEEE division rounds back to the
 * same float. One exponent k serves a dimension of a block. Values that do not sit exactly on that decimal
 * grid — typically sums printed at full precision such as 74.93588199999998 — keep the nearest grid value plus
 * a correction in units in the last place (float-bits.ts), almost always ±1 or ±2, so one stray value no
 * longer forces the whole block to 15 digits.
 */
import { POW10, pow2 } from './exact-math.ts'
import { addUlps, ulpDistance } from './float-bits.ts'

/** Exponents tried: 10^k is exact in float64 up to k = 22. */
export const MIN_EXPONENT = -22
export const MAX_EXPONENT = 22
/** Scaled integers stay below this, so residuals of a second-order predictor stay below 2^53. */
export const MAX_SCALED = pow2(50)
/** No exact exponent found. */
const NONE = 99

/** The float a scaled integer stands for. */
export function unscale(m: number, k: number): number {
  return k >= 0 ? m / POW10[k]! : m * POW10[-k]!
}

export function scale(x: number, k: number): number {
  return (k >= 0 ? Math.round(x * POW10[k]!) : Math.round(x / POW10[-k]!)) + 0 // + 0 turns -0 into 0
}

function exactAt(x: number, k: number): boolean {
  const p = POW10[k]!
  const m = Math.round(x * p)
  return m <= MAX_SCALED && m >= -MAX_SCALED && m / p === x
}

/**
 * The least k ≥ 0 at which x is exactly a k-digit decimal (NONE if none up to 22 within MAX_SCALED).
 * Exactness only grows with k, so the search starts at `hint` (the previous value's answer, usually right)
 * and walks down or up from there.
 */
export function digitsOf(x: number, hint = 0): number {
  let k = hint
  if (exactAt(x, k)) {
    while (k > 0 && exactAt(x, k - 1)) k--
    return k
  }
  for (k++; k <= MAX_EXPONENT; k++) {
    const m = Math.round(x * POW10[k]!)
    if (m > MAX_SCALED || m < -MAX_SCALED) return NONE
    if (m / POW10[k]! === x) return k
  }
  return NONE
}

/** Trailing decimal zeros of an integer (at most 22). */
function trailingZeros(m: number): number {
  let z = 0
  while (z < 22 && m !== 0 && m % POW10[z + 1]! === 0) z++
  return z
}

export interface Scaled {
  k: number
  /** m_i: the scaled integers. */
  m: Float64Array
  /** c_i: ulps from unscale(m_i, k) to x_i. */
  c: Float64Array
  /** Any c_i ≠ 0. */
  corrected: boolean
}

/** The values at exponent k, or null when some value falls outside MAX_SCALED or too far from the grid. */
export function scaleColumn(column: ArrayLike<number>, k: number, m: Float64Array, c: Float64Array): Scaled | null {
  let corrected = false
  for (let i = 0; i < column.length; i++) {
    const x = column[i]!
    const mi = scale(x, k)
    if (mi > MAX_SCALED || mi < -MAX_SCALED) return null
    const y = unscale(mi, k)
    let ci = 0
    if (y !== x || Object.is(x, -0)) {
      ci = ulpDistance(x, y)
      if (Number.isNaN(ci)) return null
      if (ci !== 0) corrected = true
    }
    m[i] = mi
    c[i] = ci
  }
  return { k, m, c, corrected }
}

/** The value a decoded (m, k, c) stands for. */
export function restore(m: number, k: number, c: number): number {
  const y = unscale(m, k)
  return c === 0 ? y : addUlps(y, c)
}

/**
 * Candidate exponents for a column, most promising first: the digit counts its values need, each with how
 * many values it covers exactly; integers with trailing zeros in common get a negative exponent.
 */
export function candidateExponents(column: ArrayLike<number>): number[] {
  const counts = new Map<number, number>()
  let maxAbs = 0
  let hint = 0
  for (let i = 0; i < column.length; i++) {
    const x = column[i]!
    const k = digitsOf(x, hint)
    if (k !== NONE) hint = k
    counts.set(k, (counts.get(k) ?? 0) + 1)
    const a = Math.abs(x)
    if (a > maxAbs) maxAbs = a
  }
  counts.delete(NONE)
  const ks = [...counts.keys()].filter((k) => maxAbs * POW10[k]! <= MAX_SCALED)
  if (ks.length === 1 && ks[0] === 0 && counts.get(0) === column.length) {
    let z = 22
    for (let i = 0; i < column.length && z > 0; i++) z = Math.min(z, trailingZeros(column[i]!))
    if (z > 0) return [-z]
  }
  // Most covered first: a value with fewer digits is also exact at any larger k.
  const covered = (k: number): number => {
    let total = 0
    for (const [j, count] of counts) if (j <= k) total += count
    return total
  }
  ks.sort((a, b) => covered(b) - covered(a) || a - b)
  if (ks.length === 0) {
    // Nothing is a short decimal: the most digits that fit, with corrections, as the one decimal candidate.
    const fit = maxAbs === 0 ? 0 : Math.floor(Math.log10(MAX_SCALED / maxAbs))
    if (fit >= MIN_EXPONENT) ks.push(Math.min(MAX_EXPONENT, Math.max(MIN_EXPONENT, fit)))
  }
  return ks
}

/** The decimal resolution 10^-k of the first values of a column (0 when they are not short decimals). */
export function sampleResolution(column: ArrayLike<number>, count = 16): number {
  let k = 0
  for (let i = 0; i < column.length && i < count; i++) {
    const d = digitsOf(column[i]!)
    if (d === NONE) return 0
    if (d > k) k = d
  }
  return 1 / POW10[k]!
}

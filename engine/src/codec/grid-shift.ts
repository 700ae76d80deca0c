/**
 * The grid shift of a quantised column (quantize.ts): of the OFFSETS shifts on which every value meets its
 * bound, the one whose indices have the least order-0 entropy (quickBits: as deltas or around the median),
 * the first on ties.
 *
 * Most values need no float arithmetic per shift. With u = 8·(x / s) and F = ⌊u⌋, the index on shift k is
 * ⌊(x/s − k/8) + 1/2⌋ = ⌊(F + 4 − k) / 8⌋, and its grid point lies at most 4 − min(u − F, 1 − (u − F)) eighths
 * of a step from x, inside the bound (s ≤ 2e). Where u − F keeps SAFE from 0 and 1, the rounding errors of
 * x / s, of the shift and of the bound check (relative 2^-52 of |u| < 2^29, far below SAFE) cannot change
 * either, so that integer is exactly what quantizeValue would return; every other value (on or near the
 * boundary between two indices, or too large) takes quantizeValue itself.
 */
import { quickBits } from './entropy.ts'
import { median } from './predict.ts'
import { OFFSETS, quantizeValue } from './quantize.ts'

/** How far from an integer u must lie for the integer path. */
const SAFE = 2 ** -16
/** |x / s| below this for the integer path. */
const FAST_LIMIT = 2 ** 26
/** In `floors`: the value takes quantizeValue (no ⌊u⌋ is this large). */
const CHECKED = 0x7fffffff

let scaled = new Float64Array(256)
let floors = new Int32Array(256)
let trial = new Float64Array(256)

/** The best shift's indices into q (column.length of them) and the shift; −1 when no shift works. */
export function chooseGridShift(column: Float64Array, e: number, step: number, q: Float64Array): number {
  const n = column.length
  if (scaled.length < n) {
    scaled = new Float64Array(n)
    floors = new Int32Array(n)
    trial = new Float64Array(n)
  }
  // (A step over 2e, which stepFor never gives, leaves grid points outside the bound: every value is checked.)
  const limit = step <= 2 * e ? FAST_LIMIT : 0
  for (let i = 0; i < n; i++) {
    const y = column[i]! / step
    scaled[i] = y
    const u = 8 * y
    const f = Math.floor(u)
    const frac = u - f
    floors[i] = y < limit && y > -limit && frac >= SAFE && frac <= 1 - SAFE ? f : CHECKED
  }
  // Quantising is monotone: the median's index is the indices' median (near enough for an estimate).
  const middle = median(column)
  const unit = step / OFFSETS
  let best = -1
  let least = Number.POSITIVE_INFINITY
  for (let offset = 0; offset < OFFSETS; offset++) {
    if (!quantizeShifted(column, e, offset, unit, n)) continue
    const h = quickBits(trial, n, Math.round(middle / step - offset / OFFSETS))
    if (h < least) {
      least = h
      best = offset
      q.set(trial.subarray(0, n))
    }
  }
  return best
}

/** The indices on shift `offset` into `trial`, or false when some value misses its bound on that grid. */
function quantizeShifted(column: Float64Array, e: number, offset: number, unit: number, n: number): boolean {
  const shift = offset / OFFSETS
  const add = 4 - offset
  for (let i = 0; i < n; i++) {
    const f = floors[i]!
    if (f !== CHECKED) {
      trial[i] = (f + add) >> 3
      continue
    }
    const qi = quantizeValue(column[i]!, scaled[i]! - shift, e, offset, unit)
    if (Number.isNaN(qi)) return false
    trial[i] = qi
  }
  return true
}

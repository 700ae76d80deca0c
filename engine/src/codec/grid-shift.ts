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
import { countsBits, quickBits } from './entropy.ts'
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
let indices = new Int32Array(256)
let turns = new Uint8Array(256)
let byTurn = new Int32Array(256)
const HALF = 64
const deltaCounts = new Uint32Array(2 * HALF)
const indexCounts = new Uint32Array(2 * HALF)
const turnStarts = new Int32Array(OFFSETS + 1)

/** The best shift's indices into q (column.length of them) and the shift; −1 when no shift works. */
export function chooseGridShift(column: Float64Array, e: number, step: number, q: Float64Array): number {
  const n = column.length
  if (scaled.length < n) {
    scaled = new Float64Array(n)
    floors = new Int32Array(n)
    trial = new Float64Array(n)
    indices = new Int32Array(n)
    turns = new Uint8Array(n)
    byTurn = new Int32Array(n)
  }
  // (A step over 2e, which stepFor never gives, leaves grid points outside the bound: every value is checked.)
  const limit = step <= 2 * e ? FAST_LIMIT : 0
  let checked = 0
  for (let i = 0; i < n; i++) {
    const y = column[i]! / step
    scaled[i] = y
    const u = 8 * y
    const f = Math.floor(u)
    const frac = u - f
    const fast = y < limit && y > -limit && frac >= SAFE && frac <= 1 - SAFE
    floors[i] = fast ? f : CHECKED
    if (!fast) checked++
  }
  // Quantising is monotone: the median's index is the indices' median (near enough for an estimate).
  const middle = median(column)
  if (checked === 0) {
    const best = searchByTurns(n, middle, step)
    if (best >= 0) {
      for (let i = 0; i < n; i++) q[i] = (floors[i]! + 4 - best) >> 3
      return best
    }
  }
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

/**
 * The search when every value takes the integer path: the index of value i is ⌊(F + 4) / 8⌋ up to its turn
 * t = (F + 4) mod 8 and one less from shift t + 1 on, so each value changes once over the shifts and the
 * histograms of quickBits (deltas, and indices: around any center, the same counts in the same order while
 * nothing escapes) are updated value by value rather than rebuilt per shift. Returns −1 when some delta or
 * index could reach quickBits' escape (beyond ±63): the caller then runs the plain search.
 */
function searchByTurns(n: number, middle: number, step: number): number {
  let lo = Number.POSITIVE_INFINITY
  let hi = Number.NEGATIVE_INFINITY
  let spread = 0
  turnStarts.fill(0)
  for (let i = 0; i < n; i++) {
    const g = floors[i]! + 4
    const qi = g >> 3
    indices[i] = qi
    turns[i] = g & 7
    turnStarts[(g & 7) + 1]!++
    if (qi < lo) lo = qi
    if (qi > hi) hi = qi
    if (i > 0) {
      const d = qi - indices[i - 1]!
      if (d > spread) spread = d
      else if (-d > spread) spread = -d
    }
  }
  let centerLo = Number.POSITIVE_INFINITY
  let centerHi = Number.NEGATIVE_INFINITY
  for (let offset = 0; offset < OFFSETS; offset++) {
    const center = Math.round(middle / step - offset / OFFSETS)
    if (center < centerLo) centerLo = center
    if (center > centerHi) centerHi = center
  }
  // Deltas move by at most one each way, indices drop by at most one.
  if (spread + 1 >= HALF || hi - centerLo >= HALF || lo - 1 - centerHi <= -HALF) return -1
  const base = lo - 1
  const top = hi - base
  deltaCounts.fill(0)
  indexCounts.fill(0, 0, top + 1)
  for (let i = 0; i < n; i++) {
    indexCounts[indices[i]! - base]!++
    if (i > 0) deltaCounts[indices[i]! - indices[i - 1]! + HALF]!++
  }
  for (let t = 0; t < OFFSETS; t++) turnStarts[t + 1]! += turnStarts[t]!
  for (let i = 0; i < n; i++) byTurn[turnStarts[turns[i]!]!++] = i
  const from = HALF - spread - 1
  const to = HALF + spread + 1
  let best = 0
  let least = Math.min(countsBits(deltaCounts, from, to, n - 1), countsBits(indexCounts, 0, top, n))
  let at = 0
  for (let offset = 1; offset < OFFSETS; offset++) {
    for (; at < n && turns[byTurn[at]!] === offset - 1; at++) lower(byTurn[at]!, n, base)
    const h = Math.min(countsBits(deltaCounts, from, to, n - 1), countsBits(indexCounts, 0, top, n))
    if (h < least) {
      least = h
      best = offset
    }
  }
  return best
}

/** Value i moves down one index: its count and the deltas on either side of it follow. */
function lower(i: number, n: number, base: number): void {
  const v = indices[i]!
  indexCounts[v - base]!--
  indexCounts[v - 1 - base]!++
  indices[i] = v - 1
  if (i > 0) {
    const d = v - indices[i - 1]! + HALF
    deltaCounts[d]!--
    deltaCounts[d - 1]!++
  }
  if (i + 1 < n) {
    const d = indices[i + 1]! - v + HALF
    deltaCounts[d]!--
    deltaCounts[d + 1]!++
  }
}

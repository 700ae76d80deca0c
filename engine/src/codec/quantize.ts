/**
 * Error-bounded quantisation: x ↦ q = round(x / s), x̂ = q · s, with a step s ≤ 2e so |x − x̂| ≤ e. The step is
 * 2e rounded *down* to an 8-bit mantissa: at most 0.4 % finer than the bound allows (≈ 0.006 bits per value),
 * sent as the mantissa and a small binary exponent (≈ 15 bits, not a float64's 64). Every point is checked
 * with the decoder's own arithmetic; a value that misses the bound by a rounding hair moves to the next index,
 * and a dimension that still misses (a bound near the float resolution of its values) is stored losslessly.
 */
import { MAX_SCALED } from './decimal.ts'
import { corrupt } from './errors.ts'
import { pow2 } from './exact-math.ts'
import type { BitSink, RangeDecoder } from './range-coder.ts'
import { getSmall, putSmall, unzigzag, zigzag } from './universal.ts'

const MANTISSA_BITS = 8
/** Binary exponents of 2e allowed: below 2^-990 a bound is treated as zero (exact storage). */
const MIN_TOP = -990
const MAX_TOP = 1023

export interface Step {
  /** 2e lies in [2^top, 2^(top+1)). */
  top: number
  mantissa: number
  step: number
}

function stepOf(top: number, mantissa: number): number {
  return (256 + mantissa) * pow2(top - MANTISSA_BITS)
}

/** The step for bound e (> 0), or null when e is too small to quantise with. */
export function stepFor(e: number): Step | null {
  const target = Math.min(2 * e, Number.MAX_VALUE)
  if (!(target >= pow2(MIN_TOP))) return null
  let top = Math.floor(Math.log2(target))
  if (pow2(top) > target) top--
  else if (pow2(top + 1) <= target) top++
  const mantissa = Math.min(255, Math.max(0, Math.floor(target / pow2(top - MANTISSA_BITS)) - 256))
  return { top, mantissa, step: stepOf(top, mantissa) }
}

export function putStep(sink: BitSink, step: Step): void {
  putSmall(sink, zigzag(step.top))
  sink.direct(step.mantissa, MANTISSA_BITS)
}

export function getStep(src: RangeDecoder): number {
  const top = unzigzag(getSmall(src, 2 * Math.max(MAX_TOP, -MIN_TOP)))
  if (top < MIN_TOP || top > MAX_TOP) corrupt(`a quantisation step of 2^${top}`)
  const step = stepOf(top, src.direct(MANTISSA_BITS))
  if (!Number.isFinite(step)) corrupt('an infinite quantisation step')
  return step
}

/** Bits putStep writes. */
export function stepBits(step: Step): number {
  return 2 * Math.floor(Math.log2(zigzag(step.top) + 1)) + 1 + MANTISSA_BITS
}

/**
 * The grid may be shifted by offset/8 of a step (0 ≤ offset < 8): x̂ = (8q + offset) · (s/8), one exact scaling
 * and one rounded product, the same in the encoder and the decoder. Integer-valued series gain most: the shift
 * that centres their common values in a bin stops them flickering between two indices.
 */
export const OFFSETS = 8
export const OFFSET_BITS = 3

export function reconstructValue(q: number, offset: number, step: number): number {
  return (OFFSETS * q + offset) * (step / OFFSETS)
}

/** q[i] for each value, or false when some value cannot meet the bound on this grid. */
export function quantizeColumn(column: ArrayLike<number>, e: number, step: number, offset: number, q: Float64Array): boolean {
  const scaled = new Float64Array(column.length)
  for (let i = 0; i < column.length; i++) scaled[i] = column[i]! / step
  return quantizeScaled(column, scaled, e, step, offset, q)
}

/** quantizeColumn with the values already divided by the step (`scaled[i] = column[i] / step`): one division per value for every grid shift. */
export function quantizeScaled(
  column: ArrayLike<number>,
  scaled: Float64Array,
  e: number,
  step: number,
  offset: number,
  q: Float64Array,
): boolean {
  const shift = offset / OFFSETS
  // reconstructValue's arithmetic, its constant factor taken out of the loop.
  const unit = step / OFFSETS
  const n = column.length
  for (let i = 0; i < n; i++) {
    const qi = quantizeValue(column[i]!, scaled[i]! - shift, e, offset, unit)
    if (Number.isNaN(qi)) return false // no index meets the bound
    q[i] = qi
  }
  return true
}

/**
 * The index of x on the grid shifted by `offset` (unit = step / OFFSETS), from y = x / step − offset / OFFSETS
 * as the caller computed it: the nearest, or a neighbour when rounding makes the nearest miss the bound by a
 * hair; NaN when none meets it (or the index is out of range).
 */
export function quantizeValue(x: number, y: number, e: number, offset: number, unit: number): number {
  // Math.round(y) + 0, without Math.round's unpredictable branch on the fraction: floor(y + 0.5) is one too
  // many exactly when the sum rounded up to the next integer (so then r − 0.5 > y), and 0 is never −0 here.
  let qi = Math.floor(y + 0.5)
  if (qi - 0.5 > y) qi -= 1
  qi += 0
  if (!(qi <= MAX_SCALED && qi >= -MAX_SCALED)) return Number.NaN
  if (Math.abs(x - (OFFSETS * qi + offset) * unit) <= e) return qi
  if (Math.abs(x - (OFFSETS * (qi - 1) + offset) * unit) <= e) return qi - 1
  if (Math.abs(x - (OFFSETS * (qi + 1) + offset) * unit) <= e) return qi + 1
  return Number.NaN
}

/**
 * encodeSegment: observations → one self-describing block (format.ts). Per dimension it prices the ways to
 * store the column against the adaptive contexts as they stand and writes the cheapest:
 *   lossy codec   quantised indices (step ≤ 2e) — or the lossless forms when e = 0, when the bound is below the
 *                 values' float resolution, or when storing exactly happens to be cheaper;
 *   lossless      scaled decimals at each candidate exponent (with ulp corrections), or XOR floats.
 */
import { candidateExponents, type Scaled, sampleResolution, scaleColumn } from './decimal.ts'
import { DEFAULT_COUNT, LOSSY_CODEC, SENTINEL, tagOf } from './format.ts'
import { chooseGridShift } from './grid-shift.ts'
import { type CodecHints, hintDrifted, hintedPredictor, noteColumn } from './hints.ts'
import { ALPHAS, IntStream, priceResiduals } from './int-coder.ts'
import { type ColumnCoding, chooseIntColumn, encodeIntColumn, priceIntColumn } from './int-column.ts'
import { resetIntProbs } from './int-prior.ts'
import { encoderContexts, type Models } from './models.ts'
import { OFFSET_BITS, putStep, type Step, stepBits, stepFor } from './quantize.ts'
import { type BitSink, CostMeter, copyProbs, RangeEncoder } from './range-coder.ts'
import { encodeTimestamps } from './timestamps.ts'
import type { EncodeOptions, SegmentObservations } from './types.ts'
import { putSmall, putWide, smallBits, zigzag } from './universal.ts'
import { checkInput } from './validate.ts'
import { encodeXor } from './xor-floats.ts'

/** Decimal exponents priced per column, most covering first. */
const MAX_EXPONENT_TRIALS = 4
/** Above this many bits per value a decimal column is also priced as XOR floats. */
const XOR_TRIAL_BITS = 40
/** A quantised column is also priced lossless above this many bits per value … */
const EXACT_TRIAL_BITS = 3
/** … when its values are decimals with a resolution at least this fraction of the step. */
const EXACT_TRIAL_RESOLUTION = 8

/** How one dimension will be written: `bits` in all, `columnBits` of them the integer column's (chooseIntColumn's price). */
type Plan =
  | { kind: 'quantised'; step: Step; offset: number; q: Float64Array; coding: ColumnCoding; columnBits: number; bits: number }
  | { kind: 'decimal'; scaled: Scaled; coding: ColumnCoding; columnBits: number; bits: number }
  | { kind: 'xor'; bits: number }

export function encodeSegment(obs: SegmentObservations, options: EncodeOptions): Uint8Array {
  const { n, dim, bounds } = checkInput(obs, options)
  const models = encoderContexts()
  const out = new RangeEncoder(64 + n * dim)
  if (n === DEFAULT_COUNT) out.direct(1, 1)
  else {
    out.direct(0, 1)
    putWide(out, n)
  }
  putSmall(out, dim - 1)
  encodeTimestamps(out, models.ts, obs.ts)
  const column = new Float64Array(n)
  const r = new Float64Array(n)
  const hints = options.codec === LOSSY_CODEC ? options.hints : undefined
  for (let d = 0; d < dim; d++) {
    for (let i = 0; i < n; i++) column[i] = obs.vectors[i]![d]!
    const plan = bounds === null ? planExact(models, column, r) : planLossy(models, column, bounds[d]!, r, hints, d)
    if (d === 0) {
      // The value contexts' prior, for the whole block: the one the first dimension's plan codes cheaper in.
      const family = priorFamily(models, plan, r)
      out.direct(family, 1)
      if (family !== 0) resetIntProbs(models.val, family)
    }
    if (bounds !== null) out.direct(plan.kind === 'quantised' ? 1 : 0, 1)
    write(out, models, column, plan, r)
  }
  out.direct(SENTINEL, 8)
  const { bytes, pad } = out.finish(1)
  bytes[0] = tagOf(options.codec, pad)
  return bytes
}

function priorFamily(models: Models, plan: Plan, r: Float64Array): number {
  if (plan.kind === 'xor') return 0
  const v = plan.kind === 'quantised' ? plan.q : plan.scaled.m
  // The value contexts are still at prior 0 here (dimension 0), as they were when the plan priced its column.
  const heavy = plan.columnBits
  resetIntProbs(models.scratch.val, 1)
  const light = priceIntColumn(models.scratch.val, v, plan.coding, r)
  return light < heavy ? 1 : 0
}

function write(sink: BitSink, models: Models, column: Float64Array, plan: Plan, r: Float64Array): void {
  if (plan.kind === 'quantised') {
    putStep(sink, plan.step)
    sink.direct(plan.offset, OFFSET_BITS)
    encodeIntColumn(sink, models.val, plan.q, plan.coding, r)
    return
  }
  sink.direct(plan.kind === 'xor' ? 1 : 0, 1)
  if (plan.kind === 'xor') {
    encodeXor(sink, models.xor, column)
    return
  }
  const { k, m, c, corrected } = plan.scaled
  putSmall(sink, zigzag(k))
  encodeIntColumn(sink, models.val, m, plan.coding, r)
  sink.direct(corrected ? 1 : 0, 1)
  if (corrected) {
    const stream = new IntStream(0)
    for (let i = 0; i < c.length; i++) stream.encode(sink, models.corr, c[i]!)
  }
}

function planLossy(models: Models, column: Float64Array, e: number, r: Float64Array, hints: CodecHints | undefined, d: number): Plan {
  const step = e > 0 ? stepFor(e) : null
  if (step !== null) {
    const n = column.length
    const q = new Float64Array(n)
    const offset = chooseGridShift(column, e, step.step, q)
    if (offset >= 0) {
      const { coding, bits } = chooseQuantised(models, q, r, hints, d)
      const plan: Plan = { kind: 'quantised', step, offset, q, coding, columnBits: bits, bits: bits + stepBits(step) + OFFSET_BITS }
      // Storing exactly can only win when the values sit on a lattice about as coarse as the step.
      if (bits <= EXACT_TRIAL_BITS * n || sampleResolution(column) * EXACT_TRIAL_RESOLUTION < step.step) return plan
      const exact = planExact(models, column, r)
      return exact.bits < plan.bits ? exact : plan
    }
  }
  return planExact(models, column, r)
}

/** The coding of a quantised column: the hinted predictor priced alone when the hints have one (hints.ts), else all. */
function chooseQuantised(models: Models, q: Float64Array, r: Float64Array, hints: CodecHints | undefined, d: number) {
  const n = q.length
  const hinted = hintedPredictor(hints, d)
  if (hinted !== undefined) {
    const choice = chooseIntColumn(models.val, q, r, { only: hinted })
    if (!hintDrifted(hints as CodecHints, d, choice.bits / n)) {
      noteColumn(hints, d, choice.coding.predictor, choice.bits / n, false)
      return choice
    }
  }
  const choice = chooseIntColumn(models.val, q, r)
  noteColumn(hints, d, choice.coding.predictor, choice.bits / n, true)
  return choice
}

function planExact(models: Models, column: Float64Array, r: Float64Array): Plan {
  const n = column.length
  let best: Plan | null = null
  // The predictor and activity speed are chosen on the first exponent that works, then kept while the others
  // are priced: scaling by 10 changes a column's size, hardly its shape.
  let first: ColumnCoding | undefined
  for (const k of candidateExponents(column).slice(0, MAX_EXPONENT_TRIALS)) {
    const scaled = scaleColumn(column, k, new Float64Array(n), new Float64Array(n))
    if (scaled === null) continue
    const { coding, bits } = chooseIntColumn(models.val, scaled.m, r, { only: first?.predictor, speed: first?.speed, thorough: false })
    first ??= coding
    let total = bits + 1 + smallBits(zigzag(k))
    if (scaled.corrected) total += correctionBits(models, scaled.c)
    if (best === null || total < best.bits) best = { kind: 'decimal', scaled, coding, columnBits: bits, bits: total }
  }
  if (best === null || best.bits > XOR_TRIAL_BITS * n) {
    copyProbs(models.scratch.xor, models.xor)
    const meter = new CostMeter()
    encodeXor(meter, models.scratch.xor, column)
    if (best === null || meter.bits < best.bits) best = { kind: 'xor', bits: meter.bits }
  }
  return best
}

function correctionBits(models: Models, c: Float64Array): number {
  return priceResiduals(models.corr, c, 0, c.length, 0, ALPHAS[0])
}

/**
 * encodeSegment: observations → one self-describing block (format.ts). Per dimension it prices the ways to
 * store the column on scratch copies of the adaptive contexts and writes the cheapest:
 *   lossy codec   quantised indices (step ≤ 2e) — or the lossless forms when e = 0, when the bound is below the
 *                 values' float resolution, or when storing exactly happens to be cheaper;
 *   lossless      scaled decimals at each candidate exponent (with ulp corrections), or XOR floats.
 */
import { candidateExponents, type Scaled, scaleColumn } from './decimal.ts'
import { tagOf, DEFAULT_COUNT, SENTINEL } from './format.ts'
import { chooseIntColumn, encodeIntColumn } from './int-column.ts'
import { IntStream } from './int-coder.ts'
import { type Models, newModels } from './models.ts'
import type { Predictor } from './predict.ts'
import { putStep, quantizeColumn, type Step, stepBits, stepFor } from './quantize.ts'
import { type BitSink, CostMeter, copyProbs, RangeEncoder } from './range-coder.ts'
import { encodeTimestamps } from './timestamps.ts'
import type { EncodeOptions, SegmentObservations } from './types.ts'
import { putSmall, putWide, zigzag } from './universal.ts'
import { checkInput } from './validate.ts'
import { encodeXor } from './xor-floats.ts'

/** Above this many bits per value a decimal column is also priced as XOR floats. */
const XOR_TRIAL_BITS = 20
/** Above this many bits per value a quantised column is also priced lossless. */
const EXACT_TRIAL_BITS = 3

/** How one dimension will be written. */
type Plan =
  | { kind: 'quantised'; step: Step; q: Float64Array; predictor: Predictor; bits: number }
  | { kind: 'decimal'; scaled: Scaled; predictor: Predictor; bits: number }
  | { kind: 'xor'; bits: number }

export function encodeSegment(obs: SegmentObservations, options: EncodeOptions): Uint8Array {
  const { n, dim, bounds } = checkInput(obs, options)
  const models = newModels()
  const out = new RangeEncoder(64 + n * dim)
  if (n === DEFAULT_COUNT) out.direct(1, 1)
  else {
    out.direct(0, 1)
    putWide(out, n)
  }
  putSmall(out, dim - 1)
  encodeTimestamps(out, models.ts, models.scratch.ts, obs.ts)
  const column = new Float64Array(n)
  const r = new Float64Array(n)
  for (let d = 0; d < dim; d++) {
    for (let i = 0; i < n; i++) column[i] = obs.vectors[i]![d]!
    const plan = bounds === null ? planExact(models, column, r) : planLossy(models, column, bounds[d]!, r)
    if (bounds !== null) out.direct(plan.kind === 'quantised' ? 1 : 0, 1)
    if (process.env.CDBG) console.log("plan", plan.kind, "predictor" in plan ? plan.predictor : "", "scaled" in plan ? plan.scaled.k : "", plan.bits)
    write(out, models, column, plan, r)
  }
  out.direct(SENTINEL, 8)
  return out.finish(Uint8Array.of(tagOf(options.codec)))
}

function write(sink: BitSink, models: Models, column: Float64Array, plan: Plan, r: Float64Array): void {
  if (plan.kind === 'quantised') {
    putStep(sink, plan.step)
    encodeIntColumn(sink, models.val, plan.q, plan.predictor, r)
    return
  }
  sink.direct(plan.kind === 'xor' ? 1 : 0, 1)
  if (plan.kind === 'xor') {
    encodeXor(sink, models.xor, column)
    return
  }
  const { k, m, c, corrected } = plan.scaled
  putSmall(sink, zigzag(k))
  encodeIntColumn(sink, models.val, m, plan.predictor, r)
  sink.direct(corrected ? 1 : 0, 1)
  if (corrected) {
    const stream = new IntStream(0)
    for (let i = 0; i < c.length; i++) stream.encode(sink, models.corr, c[i]!)
  }
}

function planLossy(models: Models, column: Float64Array, e: number, r: Float64Array): Plan {
  const step = e > 0 ? stepFor(e) : null
  if (step !== null) {
    const q = new Float64Array(column.length)
    if (quantizeColumn(column, e, step.step, q)) {
      const { predictor, bits } = chooseIntColumn(models.val, models.scratch.val, q, r)
      const plan: Plan = { kind: 'quantised', step, q, predictor, bits: bits + stepBits(step) }
      if (bits <= EXACT_TRIAL_BITS * column.length) return plan
      const exact = planExact(models, column, r)
      return exact.bits < plan.bits ? exact : plan
    }
  }
  return planExact(models, column, r)
}

function planExact(models: Models, column: Float64Array, r: Float64Array): Plan {
  const n = column.length
  let best: Plan | null = null
  for (const k of candidateExponents(column).slice(0, 4)) {
    const scaled = scaleColumn(column, k, new Float64Array(n), new Float64Array(n))
    if (scaled === null) continue
    const { predictor, bits } = chooseIntColumn(models.val, models.scratch.val, scaled.m, r)
    let total = bits + 1
    if (scaled.corrected) total += correctionBits(models, scaled.c)
    if (best === null || total < best.bits) best = { kind: 'decimal', scaled, predictor, bits: total }
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
  copyProbs(models.scratch.corr, models.corr)
  const meter = new CostMeter()
  const stream = new IntStream(0)
  for (let i = 0; i < c.length; i++) stream.encode(meter, models.scratch.corr, c[i]!)
  return meter.bits
}

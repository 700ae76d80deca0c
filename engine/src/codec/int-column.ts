/**
 * A column of integers (a dimension's scaled decimals or quantisation indices, or the time steps): predictor
 * (2 bits), anchor, starting activity, then the residuals through the shared adaptive contexts. The encoder
 * prices every predictor on a scratch copy of the contexts and keeps the cheapest.
 */
import { corrupt } from './errors.ts'
import { BUCKETS, INIT_BITS, IntStream, initialBucket } from './int-coder.ts'
import { firstResidual, PREDICTORS, type Predictor, reconstruct, residuals } from './predict.ts'
import { type BitSink, CostMeter, copyProbs, type Probs, type RangeDecoder } from './range-coder.ts'
import { getSignedWide, putSignedWide } from './universal.ts'

/** Writes the column with the given predictor; `r` is scratch of the column's length. */
export function encodeIntColumn(sink: BitSink, probs: Probs, v: ArrayLike<number>, predictor: Predictor, r: Float64Array): void {
  const anchor = residuals(predictor, v, r)
  const first = firstResidual(predictor)
  const bucket = initialBucket(r, first, v.length)
  sink.direct(predictor, 2)
  putSignedWide(sink, anchor)
  sink.direct(bucket, INIT_BITS)
  const stream = new IntStream(bucket)
  for (let i = first; i < v.length; i++) stream.encode(sink, probs, r[i]!)
}

/** Decodes n integers into a new array. */
export function decodeIntColumn(src: RangeDecoder, probs: Probs, n: number): Float64Array {
  const predictor = src.direct(2) as Predictor
  const anchor = getSignedWide(src)
  const bucket = src.direct(INIT_BITS)
  if (bucket >= BUCKETS) corrupt(`activity bucket ${bucket}`)
  const stream = new IntStream(bucket)
  const v = new Float64Array(n)
  for (let i = firstResidual(predictor); i < n; i++) v[i] = stream.decode(src, probs)
  reconstruct(predictor, anchor, v)
  return v
}

/** Prices every predictor from the current contexts; returns the cheapest and its cost in bits. */
export function chooseIntColumn(
  probs: Probs,
  scratch: Probs,
  v: ArrayLike<number>,
  r: Float64Array,
  predictors: readonly Predictor[] = PREDICTORS,
): { predictor: Predictor; bits: number } {
  let best: Predictor = PREDICTORS[0]
  let bestBits = Number.POSITIVE_INFINITY
  for (const predictor of predictors) {
    if (v.length < 3 && predictor !== PREDICTORS[0]) continue
    copyProbs(scratch, probs)
    const meter = new CostMeter()
    encodeIntColumn(meter, scratch, v, predictor, r)
    if (meter.bits < bestBits) {
      bestBits = meter.bits
      best = predictor
    }
  }
  return { predictor: best, bits: bestBits }
}

/**
 * A column of integers (a dimension's scaled decimals or quantisation indices, or the time steps): predictor,
 * anchor, starting activity, then the residuals through the shared adaptive contexts. The encoder prices
 * the predictors exactly — header bits plus what the adaptive coder would spend from the contexts as they
 * stand (priceResiduals, which leaves them as it found them) — and keeps the cheapest.
 */
import { corrupt } from './errors.ts'
import { ALPHAS, BUCKETS, floorLog2, IntStream, initialBucket, priceResiduals } from './int-coder.ts'
import {
  firstResidual,
  LEVEL,
  LINEAR,
  MEAN2,
  MEAN4,
  median,
  PREDICTOR_BITS,
  PREVIOUS,
  type Predictor,
  REVERT,
  reconstruct,
  residuals,
  SMOOTH2,
  SMOOTH4,
} from './predict.ts'
import type { BitSink, Probs, RangeDecoder } from './range-coder.ts'
import { getSignedWide, getSmall, putSignedWide, putSmall, signedWideBits, smallBits, unzigzag, zigzag } from './universal.ts'

/**
 * The starting activity bucket, as a small code of its distance from TYPICAL_BUCKET: quantised and timestamp
 * columns start within a couple of octaves of it (3 bits), a large-scale decimal column pays ~10 bits.
 */
const TYPICAL_BUCKET = 5

function putBucket(sink: BitSink, bucket: number): void {
  putSmall(sink, zigzag(bucket - TYPICAL_BUCKET))
}

function getBucket(src: RangeDecoder): number {
  const bucket = unzigzag(getSmall(src, 2 * BUCKETS)) + TYPICAL_BUCKET
  if (bucket < 0 || bucket >= BUCKETS) corrupt(`activity bucket ${bucket}`)
  return bucket
}

function bucketBits(bucket: number): number {
  return smallBits(zigzag(bucket - TYPICAL_BUCKET))
}

/** Mean residual bit length above which predictors are short-listed by it (see candidates). */
const LARGE_RESIDUAL_BITS = 3
const FINALISTS = 2

/** Pricing order, most often chosen on NAB first, so that later candidates stop early against a good bound. */
const BY_POPULARITY: readonly Predictor[] = [LEVEL, PREVIOUS, SMOOTH4, SMOOTH2, REVERT, MEAN4, LINEAR, MEAN2]

/** How a column is coded: its predictor and the speed of its activity (an index into ALPHAS). */
export interface ColumnCoding {
  predictor: Predictor
  speed: number
}

/** Writes the column; `r` is scratch of the column's length. */
export function encodeIntColumn(sink: BitSink, probs: Probs, v: ArrayLike<number>, coding: ColumnCoding, r: Float64Array): void {
  const { predictor, speed } = coding
  const anchor = residuals(predictor, v, r)
  const first = firstResidual(predictor)
  const bucket = initialBucket(r, first, v.length)
  sink.direct(predictor, PREDICTOR_BITS)
  sink.direct(speed, 1)
  putSignedWide(sink, anchor)
  putBucket(sink, bucket)
  const stream = new IntStream(bucket, ALPHAS[speed])
  for (let i = first; i < v.length; i++) stream.encode(sink, probs, r[i]!)
}

/** Decodes n integers into a new array. */
export function decodeIntColumn(src: RangeDecoder, probs: Probs, n: number): Float64Array {
  const predictor = src.direct(PREDICTOR_BITS) as Predictor
  const speed = src.direct(1)
  const anchor = getSignedWide(src)
  const bucket = getBucket(src)
  const stream = new IntStream(bucket, ALPHAS[speed])
  const v = new Float64Array(n)
  for (let i = firstResidual(predictor); i < n; i++) v[i] = stream.decode(src, probs)
  reconstruct(predictor, anchor, v)
  return v
}

/**
 * Prices the predictors (or just `only`) at the fast activity from the current contexts, then the best one at
 * the static activity; returns the cheapest coding and its cost in bits. `thorough` prices every predictor
 * whatever the residuals look like (quantised columns, where it pays: see candidates).
 */
export function chooseIntColumn(
  probs: Probs,
  v: ArrayLike<number>,
  r: Float64Array,
  options: { only?: Predictor; speed?: number; thorough?: boolean } = {},
): ColumnCoding & { bits: number } {
  const { only, speed, thorough = true } = options
  const n = v.length
  const center = median(v)
  let best: Predictor = PREVIOUS
  let bestBits = Number.POSITIVE_INFINITY
  for (const predictor of only === undefined ? candidates(v, r, center, thorough) : [only]) {
    if (n < 5 && predictor !== PREVIOUS) continue
    const bits = price(probs, v, r, predictor, center, speed ?? 0, bestBits)
    if (bits < bestBits) {
      bestBits = bits
      best = predictor
    }
  }
  if (speed !== undefined) return { predictor: best, speed, bits: bestBits }
  const slow = price(probs, v, r, best, center, 1, bestBits)
  return slow < bestBits ? { predictor: best, speed: 1, bits: slow } : { predictor: best, speed: 0, bits: bestBits }
}

/**
 * The predictors worth pricing. Where residuals are small and it pays (quantised columns: measured on NAB,
 * pricing all of them is worth 4 % at 1 %) the adaptive coder's cost is hard to guess, so all of them, most
 * popular first; otherwise (exact decimals, or large residuals) their bit lengths say enough: the FINALISTS
 * shortest by that measure.
 */
function candidates(v: ArrayLike<number>, r: Float64Array, center: number, thorough: boolean): readonly Predictor[] {
  const lengths = BY_POPULARITY.map((predictor) => {
    residuals(predictor, v, r, center)
    let sum = 0
    for (let i = firstResidual(predictor); i < v.length; i++) {
      const a = r[i]! < 0 ? -r[i]! : r[i]!
      sum += a === 0 ? 0 : floorLog2(a) + 1
    }
    return { predictor, mean: sum / v.length }
  })
  const least = Math.min(...lengths.map((l) => l.mean))
  if (thorough && least < LARGE_RESIDUAL_BITS) return BY_POPULARITY
  return lengths
    .sort((a, b) => a.mean - b.mean)
    .slice(0, FINALISTS)
    .map((l) => l.predictor)
}

function price(
  probs: Probs,
  v: ArrayLike<number>,
  r: Float64Array,
  predictor: Predictor,
  center: number,
  speed: number,
  limit: number,
): number {
  const anchor = residuals(predictor, v, r, center)
  const first = firstResidual(predictor)
  const bucket = initialBucket(r, first, v.length)
  const header = PREDICTOR_BITS + 1 + signedWideBits(anchor) + bucketBits(bucket)
  return header + priceResiduals(probs, r, first, v.length, bucket, ALPHAS[speed]!, limit - header)
}

/** Bits the column would cost with `coding` from the contexts in `probs` (left as they were). */
export function priceIntColumn(probs: Probs, v: ArrayLike<number>, coding: ColumnCoding, r: Float64Array): number {
  const anchor = residuals(coding.predictor, v, r)
  const first = firstResidual(coding.predictor)
  const bucket = initialBucket(r, first, v.length)
  const header = PREDICTOR_BITS + 1 + signedWideBits(anchor) + bucketBits(bucket)
  return header + priceResiduals(probs, r, first, v.length, bucket, ALPHAS[coding.speed]!)
}

/**
 * A column of integers (a dimension's scaled decimals or quantisation indices, or the time steps): predictor,
 * anchor, starting activity, then the residuals through the shared adaptive contexts. The encoder prices
 * the predictors exactly — header bits plus what the adaptive coder would spend from the contexts as they
 * stand (priceResiduals, which leaves them as it found them) — and keeps the cheapest.
 */
import { entropyBits } from './entropy.ts'
import { corrupt } from './errors.ts'
import { ALPHAS, BUCKETS, encodeResiduals, floorLog2, IntStream, initialBucket, priceResiduals } from './int-coder.ts'
import {
  firstResidual,
  LEVEL,
  LINEAR,
  MEAN2,
  MEAN4,
  median,
  PREDICTOR_BITS,
  PREDICTORS,
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
  encodeResiduals(sink, probs, r, first, v.length, bucket, ALPHAS[speed]!)
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

/** The predictor chosen last (where to start pricing the next column: only the speed of the search depends on it). */
let lastWinner: Predictor = LEVEL
/** Bits of slack in the price limit of a predictor that wins ties against the best so far. */
const TIE_SLACK = 1

/** Residuals of each predictor for the column being chosen (scratch, grown as needed): each is computed once. */
const cachedResiduals: Float64Array[] = PREDICTORS.map(() => new Float64Array(256))
const cachedAnchors = new Float64Array(PREDICTORS.length)

/** The residuals of `predictor` over v (into its scratch), its anchor kept beside them. */
function residualsOf(predictor: Predictor, v: ArrayLike<number>, center: number): Float64Array {
  let r = cachedResiduals[predictor]!
  if (r.length < v.length) {
    r = new Float64Array(v.length)
    cachedResiduals[predictor] = r
  }
  cachedAnchors[predictor] = residuals(predictor, v, r, center)
  return r
}

/**
 * Prices the predictors (or just `only`) at the fast activity from the current contexts, then the best one at
 * the static activity; returns the cheapest coding and its cost in bits. `thorough` prices every predictor
 * whatever the residuals look like (quantised columns, where it pays: see candidates). `r` is scratch of the
 * column's length (kept for the callers' sake: the residuals of each predictor have their own).
 */
export function chooseIntColumn(
  probs: Probs,
  v: ArrayLike<number>,
  _r: Float64Array,
  options: { only?: Predictor; speed?: number; thorough?: boolean } = {},
): { coding: ColumnCoding; bits: number } {
  const { only, speed, thorough = true } = options
  const n = v.length
  const center = median(v)
  let best: Predictor = PREVIOUS
  let bestBits = Number.POSITIVE_INFINITY
  if (only !== undefined) residualsOf(only, v, center)
  const list = only === undefined ? candidates(v, center, thorough) : [only]
  // The cheapest, ties to the earliest in `list` — the choice pricing them in list order makes. They are priced
  // starting with the last winner (often the winner again): the sooner the best is known, the sooner the others
  // stop (a price stops once past the best so far). One that would come earlier in the list is given a bit of
  // slack, so that a tie is priced to the end and wins as it would have.
  let bestRank = list.length
  const first = list.indexOf(lastWinner)
  for (let k = first < 0 ? 0 : -1; k < list.length; k++) {
    const rank = k < 0 ? first : k
    if (k >= 0 && k === first) continue
    const predictor = list[rank] as Predictor
    if (n < 5 && predictor !== PREVIOUS) continue
    const bits = price(probs, n, predictor, speed ?? 0, rank < bestRank ? bestBits + TIE_SLACK : bestBits)
    if (bits < bestBits || (bits === bestBits && rank < bestRank)) {
      bestBits = bits
      best = predictor
      bestRank = rank
    }
  }
  if (only === undefined) lastWinner = best
  if (speed !== undefined) return { coding: { predictor: best, speed }, bits: bestBits }
  // Nothing priced (fewer than 5 values and PREVIOUS not a candidate): PREVIOUS, whose residuals may be missing.
  if (bestBits === Number.POSITIVE_INFINITY) residualsOf(best, v, center)
  const slow = price(probs, n, best, 1, bestBits)
  return slow < bestBits ? { coding: { predictor: best, speed: 1 }, bits: slow } : { coding: { predictor: best, speed: 0 }, bits: bestBits }
}

/**
 * The predictors worth pricing, with their residuals computed (residualsOf). Where residuals are small and it
 * pays (quantised columns: measured on NAB, pricing several is worth 4 % at 1 %) the adaptive coder's cost
 * is hard to guess, so the shortlist by entropy, most popular first; otherwise (exact decimals, or large residuals) their
 * bit lengths say enough: the FINALISTS shortest by that measure.
 */
function candidates(v: ArrayLike<number>, center: number, thorough: boolean): readonly Predictor[] {
  const n = v.length
  const lengths: { predictor: Predictor; mean: number }[] = []
  let least = Number.POSITIVE_INFINITY
  for (const predictor of BY_POPULARITY) {
    const r = residualsOf(predictor, v, center)
    // Once one predictor is short enough for a thorough search, the others' lengths no longer matter.
    if (thorough && least < LARGE_RESIDUAL_BITS) continue
    let sum = 0
    for (let i = firstResidual(predictor); i < n; i++) {
      const a = r[i]! < 0 ? -r[i]! : r[i]!
      sum += a === 0 ? 0 : floorLog2(a) + 1
    }
    const mean = sum / n
    if (mean < least) least = mean
    lengths.push({ predictor, mean })
  }
  if (thorough && least < LARGE_RESIDUAL_BITS) return shortlist(v.length)
  return lengths
    .sort((a, b) => a.mean - b.mean)
    .slice(0, FINALISTS)
    .map((l) => l.predictor)
}

/**
 * Predictors priced exactly on a thorough search: those whose residuals have the least order-0 entropy. Pricing
 * is the encoder's main cost, and the adaptive coder's ranking differs from the entropy's mostly among the best few:
 * measured with 3, NAB's median ratio at 1 % is unchanged and 16-d telemetry's 0.05 % lower, and lossy encoding
 * runs a third faster than with all 8.
 */
const SHORTLIST = 3

/** The SHORTLIST predictors with the least entropy (their residuals computed), in BY_POPULARITY order. */
function shortlist(n: number): readonly Predictor[] {
  const ranked = BY_POPULARITY.map((predictor, rank) => ({
    predictor,
    rank,
    bits: entropyBits(cachedResiduals[predictor] as Float64Array, firstResidual(predictor), n),
  }))
  ranked.sort((a, b) => a.bits - b.bits || a.rank - b.rank)
  return ranked
    .slice(0, SHORTLIST)
    .sort((a, b) => a.rank - b.rank)
    .map((r) => r.predictor)
}

/** Bits of the column with `predictor` (its residuals already in residualsOf's scratch) at `speed`. */
function price(probs: Probs, n: number, predictor: Predictor, speed: number, limit: number): number {
  const r = cachedResiduals[predictor]!
  const anchor = cachedAnchors[predictor]!
  const first = firstResidual(predictor)
  const bucket = initialBucket(r, first, n)
  const header = PREDICTOR_BITS + 1 + signedWideBits(anchor) + bucketBits(bucket)
  return header + priceResiduals(probs, r, first, n, bucket, ALPHAS[speed]!, limit - header)
}

/** Bits the column would cost with `coding` from the contexts in `probs` (left as they were). */
export function priceIntColumn(probs: Probs, v: ArrayLike<number>, coding: ColumnCoding, r: Float64Array): number {
  const anchor = residuals(coding.predictor, v, r)
  const first = firstResidual(coding.predictor)
  const bucket = initialBucket(r, first, v.length)
  const header = PREDICTOR_BITS + 1 + signedWideBits(anchor) + bucketBits(bucket)
  return header + priceResiduals(probs, r, first, v.length, bucket, ALPHAS[coding.speed]!)
}

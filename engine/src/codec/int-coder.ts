/**
 * Adaptive coding of signed integer residuals (|r| < 2^53) over the binary range coder.
 *
 * A residual is binarised as: zero?; sign; magnitude class e = floor(log2 |r|); the two bits below the leading
 * one; the remaining e - 2 bits sent as they are. The class is coded in unary *from the class the activity
 * expects* (k): first "e ≥ k?", then upward (e > k? e > k+1? …) or downward (e < k-1? …), so a large residual
 * costs a few decisions, not one per octave. The zero flag and the class decisions are conditioned on the
 * stream's *activity* (a running mean of |r|, bucketed by octaves), so one model serves a quiet stretch and a
 * burst alike, and streams of very different scales (the dimensions of a vector) share one set of contexts and
 * learn together. The sign is conditioned on the previous sign.
 *
 * Contexts start from a parametric prior (int-prior.ts), and the stream's starting activity is sent in the
 * column header, so the first residuals are already coded at the right scale.
 */
import { pow2 } from './exact-math.ts'
import { BUCKETS, bucketMean, bucketOf, CLASSES, D_BASE, E_BASE, EXPECTED, G_BASE, M_BASE, S_BASE, Z_BASE } from './int-layout.ts'
import {
  afterZero,
  type BitSink,
  beginTrial,
  countAfter,
  type Probs,
  type RangeDecoder,
  spendTrial,
  touchTrial,
  zeroCost,
} from './range-coder.ts'

export { BUCKETS, bucketOf }

/**
 * The activity follows |r| with one of these weights per residual, chosen per column (1 bit): 1/4 follows
 * bursts; 0 keeps the starting bucket, for stationary noise, where a jittery activity would only spread the
 * statistics over more contexts (lossless decimal columns mostly).
 */
export const ALPHAS = [0.25, 0] as const

/** The starting activity of a stream: its bucket, from the mean |r| of its first residuals. */
export function initialBucket(residuals: ArrayLike<number>, from: number, to: number): number {
  const end = Math.min(to, from + 16)
  if (end <= from) return 0
  let sum = 0
  for (let i = from; i < end; i++) sum += Math.abs(residuals[i]!)
  return bucketOf(sum / (end - from))
}

/** floor(log2 a) for an integer 1 ≤ a < 2^53. */
export function floorLog2(a: number): number {
  if (a < 0x100000000) return 31 - Math.clz32(a)
  return 63 - Math.clz32(a / 0x100000000) // the high word, exact: a < 2^53
}

/** The decisions of a non-zero residual after its zero flag: sign, class, the two bits below the leading one, the rest. */
function encodeNonZero(sink: BitSink, probs: Probs, b: number, sign: number, r: number): void {
  sink.bit(probs, S_BASE + sign, r < 0 ? 1 : 0)
  const a = r < 0 ? -r : r
  const e = floorLog2(a)
  const k = EXPECTED[b]!
  const row = b * CLASSES
  if (k > 0) sink.bit(probs, G_BASE + b, e >= k ? 1 : 0)
  if (e >= k) {
    for (let j = k; j < e; j++) sink.bit(probs, E_BASE + row + j, 1)
    if (e < CLASSES - 1) sink.bit(probs, E_BASE + row + e, 0)
  } else {
    for (let j = k - 1; j > e; j--) sink.bit(probs, D_BASE + row + j, 1)
    if (e > 0) sink.bit(probs, D_BASE + row + e, 0)
  }
  if (e >= 1) {
    let rest = a - pow2(e)
    const half = pow2(e - 1)
    const t1 = rest >= half ? 1 : 0
    sink.bit(probs, M_BASE + e * 3, t1)
    rest -= t1 * half
    if (e >= 2) {
      const quarter = half / 2
      const t2 = rest >= quarter ? 1 : 0
      sink.bit(probs, M_BASE + e * 3 + 1 + t1, t2)
      rest -= t2 * quarter
      if (e >= 3) sink.direct(rest, e - 2)
    }
  }
}

function startActivity(bucket: number): number {
  return bucket === 0 ? 0 : bucketMean(bucket)
}

/** One stream's running state: its activity and the sign of its last residual (0 −, 1 zero, 2 +). */
export class IntStream {
  activity: number
  sign = 1
  readonly #alpha: number

  constructor(bucket: number, alpha: number = ALPHAS[0]) {
    this.activity = startActivity(bucket)
    this.#alpha = alpha
  }

  #after(r: number): void {
    this.activity += (Math.abs(r) - this.activity) * this.#alpha
    this.sign = r === 0 ? 1 : r < 0 ? 0 : 2
  }

  encode(sink: BitSink, probs: Probs, r: number): void {
    const b = bucketOf(this.activity)
    if (r === 0) {
      sink.bit(probs, Z_BASE + b, 0)
      this.#after(0)
      return
    }
    sink.bit(probs, Z_BASE + b, 1)
    encodeNonZero(sink, probs, b, this.sign, r)
    this.#after(r)
  }

  decode(src: RangeDecoder, probs: Probs): number {
    const b = bucketOf(this.activity)
    if (src.bit(probs, Z_BASE + b) === 0) {
      this.#after(0)
      return 0
    }
    const negative = src.bit(probs, S_BASE + this.sign)
    const k = EXPECTED[b]!
    const row = b * CLASSES
    let e: number
    if (k === 0 || src.bit(probs, G_BASE + b) === 1) {
      e = k
      while (e < CLASSES - 1 && src.bit(probs, E_BASE + row + e) === 1) e++
    } else {
      e = k - 1
      while (e > 0 && src.bit(probs, D_BASE + row + e) === 1) e--
    }
    let a = pow2(e)
    if (e >= 1) {
      const half = pow2(e - 1)
      const t1 = src.bit(probs, M_BASE + e * 3)
      a += t1 * half
      if (e >= 2) {
        const t2 = src.bit(probs, M_BASE + e * 3 + 1 + t1)
        a += (t2 * half) / 2
        if (e >= 3) a += src.direct(e - 2)
      }
    }
    const r = negative ? -a : a
    this.#after(r)
    return r
  }
}

/**
 * IntStream.encode over r[from..n) from a stream starting at `bucket`: the same decisions in the same order,
 * with the stream's state in locals (a double held in an object field may be boxed anew at every update).
 */
export function encodeResiduals(
  sink: BitSink,
  probs: Probs,
  r: ArrayLike<number>,
  from: number,
  n: number,
  bucket: number,
  alpha: number,
): void {
  let activity = startActivity(bucket)
  let sign = 1
  for (let i = from; i < n; i++) {
    const x = r[i]!
    const b = bucketOf(activity)
    if (x === 0) {
      sink.bit(probs, Z_BASE + b, 0)
      activity += (0 - activity) * alpha
      sign = 1
      continue
    }
    sink.bit(probs, Z_BASE + b, 1)
    encodeNonZero(sink, probs, b, sign, x)
    activity += (Math.abs(x) - activity) * alpha
    sign = x < 0 ? 0 : 2
  }
}

/** The decisions of a non-zero residual, as context · 2 + bit, for priceResiduals (at most 1 + 1 + 1 + CLASSES + 2). */
const decisions = new Int32Array(CLASSES + 8)

/**
 * Bits IntStream would spend on r[from..n) starting at `bucket`: the same decisions as `encode` priced in a
 * trial (range-coder.ts), in one tight loop (the encoder prices every predictor with it). The contexts adapt
 * as they would, in the trial's copies; `probs` itself is left as it was. Stops early, returning more than
 * `limit`, once the cost passes it. A non-zero residual's decisions are listed first, then priced in order by
 * one inlined `spend`: no call per decision, no boxed number per cost.
 */
export function priceResiduals(
  probs: Probs,
  r: ArrayLike<number>,
  from: number,
  n: number,
  bucket: number,
  alpha: number,
  limit = Number.POSITIVE_INFINITY,
): number {
  const trial = beginTrial(probs)
  const { p, n: counts, tp, tn, mark, id } = trial
  const ops = decisions
  // After a zero the activity is a − a·α, exactly a·(1 − α) for the ALPHAS (1/4 and 0): one product.
  const keep = 1 - alpha
  let activity = startActivity(bucket)
  let sign = 1
  let bits = 0
  for (let i = from; i < n; i++) {
    const x = r[i]!
    let b = bucketOf(activity)
    if (x === 0) {
      // A run of zeros (most residuals): one decision each, its context held in locals while the bucket stays.
      let c = Z_BASE + b
      touchTrial(p, counts, tp, tn, mark, id, c)
      let q16 = tp[c]!
      let seen = tn[c]!
      for (;;) {
        bits += zeroCost(q16)
        q16 = afterZero(q16, seen)
        seen = countAfter(seen)
        activity *= keep
        if (i + 1 >= n || r[i + 1] !== 0) break
        i++
        const next = bucketOf(activity)
        if (next !== b) {
          tp[c] = q16
          tn[c] = seen
          b = next
          c = Z_BASE + b
          touchTrial(p, counts, tp, tn, mark, id, c)
          q16 = tp[c]!
          seen = tn[c]!
        }
      }
      tp[c] = q16
      tn[c] = seen
      sign = 1
      continue
    }
    let m = 0
    let direct = 0
    ops[m++] = (Z_BASE + b) * 2 + 1
    const negative = x < 0 ? 1 : 0
    ops[m++] = (S_BASE + sign) * 2 + negative
    const a = negative ? -x : x
    const e = floorLog2(a)
    const k = EXPECTED[b]!
    const row = b * CLASSES
    if (k > 0) ops[m++] = (G_BASE + b) * 2 + (e >= k ? 1 : 0)
    if (e >= k) {
      for (let j = k; j < e; j++) ops[m++] = (E_BASE + row + j) * 2 + 1
      if (e < CLASSES - 1) ops[m++] = (E_BASE + row + e) * 2
    } else {
      for (let j = k - 1; j > e; j--) ops[m++] = (D_BASE + row + j) * 2 + 1
      if (e > 0) ops[m++] = (D_BASE + row + e) * 2
    }
    if (e >= 1) {
      const half = pow2(e - 1)
      let rest = a - 2 * half
      const t1 = rest >= half ? 1 : 0
      ops[m++] = (M_BASE + e * 3) * 2 + t1
      if (e >= 2) {
        rest -= t1 * half
        const t2 = rest >= half / 2 ? 1 : 0
        ops[m++] = (M_BASE + e * 3 + 1 + t1) * 2 + t2
        direct = e - 2
      }
    }
    sign = negative ? 0 : 2
    for (let o = 0; o < m; o++) {
      const op = ops[o]!
      const c = op >> 1
      const bit = op & 1
      bits += spendTrial(p, counts, tp, tn, mark, id, c, bit)
    }
    bits += direct // e − 2 bits sent as they are (adding 0 when there are none changes nothing)
    activity += (a - activity) * alpha
    if (bits > limit) break
  }
  return bits
}

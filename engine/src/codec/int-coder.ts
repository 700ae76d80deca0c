/**
 * Adaptive coding of signed integer residuals (|r| < 2^53) over the binary range coder.
 *
 * A residual is binarised as: zero?; sign; magnitude class e = floor(log2 |r|) in unary; the two bits below
 * the leading one; the remaining e - 2 bits sent as they are. The zero flag and the unary class bits are
 * conditioned on the stream's *activity* (a running mean of |r|, bucketed by octaves), so one
 * model serves a quiet stretch and a burst alike, and streams of very different scales (the dimensions of a
 * vector) share one set of contexts and learn together. The sign is conditioned on the previous sign.
 *
 * Blocks are small (≈ 256 residuals), so learning from flat probabilities would cost more than the data.
 * Every context therefore starts from a parametric prior: the two-sided geometric (discrete Laplace)
 * distribution whose mean |r| is the bucket's activity, held with the weight of PRIOR_COUNT observations;
 * the adaptive counts then correct the shape to the data. The stream's starting activity is sent in the
 * header (INIT_BITS bits) so the first residuals are already coded with the right scale.
 */
import { type BitSink, cloneProbs, type Probs, type RangeDecoder } from './range-coder.ts'

/** Activity buckets: 0 for activity < 1/16, then one per octave. */
export const BUCKETS = 64
/** Magnitude classes 0..52 (|r| < 2^53). */
const CLASSES = 53
const ZC = Number(process.env.ZC ?? 1)
const SC = Number(process.env.SC ?? 3)
const EC = Number(process.env.EC ?? 1)
const Z_BASE = 0
const S_BASE = Z_BASE + BUCKETS * ZC
const E_BASE = S_BASE + SC
const M_BASE = E_BASE + BUCKETS * CLASSES * EC
const SIZE = M_BASE + CLASSES * 3
/** Weight of the prior, in observations. */
const PRIOR_COUNT = Number(process.env.PC ?? 2)
/** Bits of the starting activity bucket in a stream header. */
export const INIT_BITS = 6
/** The activity follows |r| with this weight per residual. */
const ALPHA = Number(process.env.AL ?? 0.25)

/** P(|r| ≥ 1 ...) parameters of the discrete Laplace distribution with mean |r| = mu. */
function theta(mu: number): number {
  return (Math.sqrt(1 + mu * mu) - 1) / mu
}

/** The activity a bucket stands for (the geometric middle of its octave). */
function bucketMean(b: number): number {
  return b === 0 ? 1 / 32 : (2 ** (b - 1) / 16) * Math.SQRT2
}

function toProb(p: number): number {
  const scaled = Math.round(p * 65536)
  return scaled < 16 ? 16 : scaled > 65520 ? 65520 : scaled
}

const PRIOR: Probs = (() => {
  const prior: Probs = { p: new Uint16Array(SIZE).fill(32768), n: new Uint8Array(SIZE).fill(PRIOR_COUNT) }
  for (let b = 0; b < BUCKETS * ZC; b++) {
    const t = theta(bucketMean(b % BUCKETS))
    prior.p[Z_BASE + b] = toProb((2 * t) / (1 + t)) // P(r ≠ 0)
  }
  for (let b = 0; b < BUCKETS * EC; b++) {
    const t = theta(bucketMean(b % BUCKETS))
    for (let j = 0; j < CLASSES; j++) prior.p[E_BASE + b * CLASSES + j] = toProb(t ** (2 ** j)) // P(e > j | e ≥ j)
  }
  for (let j = 1; j < CLASSES; j++) {
    const t = theta(1.5 * 2 ** j)
    const half = t ** (2 ** (j - 1))
    prior.p[M_BASE + j * 3] = toProb(half / (1 + half))
    if (j >= 2) {
      const quarter = t ** (2 ** (j - 2))
      prior.p[M_BASE + j * 3 + 1] = toProb(quarter / (1 + quarter))
      prior.p[M_BASE + j * 3 + 2] = toProb(quarter / (1 + quarter))
    }
  }
  for (let s = 0; s < SC; s++) prior.n[S_BASE + s] = 0
  return prior
})()

/** A fresh set of residual contexts, at the prior. */
export function newIntProbs(): Probs {
  return cloneProbs(PRIOR)
}

/** The bucket of an activity level. */
export function bucketOf(activity: number): number {
  if (activity < 1 / 16) return 0
  const b = Math.floor(Math.log2(activity * 16)) + 1
  return b >= BUCKETS ? BUCKETS - 1 : b
}

/** The starting activity of a stream: its bucket, from the mean |r| of its first residuals. */
export function initialBucket(residuals: ArrayLike<number>, from: number, to: number): number {
  const end = Math.min(to, from + 16)
  if (end <= from) return 0
  let sum = 0
  for (let i = from; i < end; i++) sum += Math.abs(residuals[i]!)
  return bucketOf(sum / (end - from))
}

/** One stream's running state: its activity and the sign of its last non-zero residual. */
export class IntStream {
  activity: number
  sign = 1
  cat = 2

  constructor(bucket: number) {
    this.activity = bucket === 0 ? 0 : bucketMean(bucket)
  }

  #after(r: number): void {
    this.activity += (Math.abs(r) - this.activity) * ALPHA
    this.sign = r === 0 ? 1 : r < 0 ? 0 : 2
    this.cat = r <= -2 ? 0 : r === -1 ? 1 : r === 0 ? 2 : r === 1 ? 3 : 4
  }

  #zc(b: number): number { return ZC === 1 ? b : ZC === 2 ? b + BUCKETS * (this.cat === 2 ? 1 : 0) : b + BUCKETS * this.cat }
  #ec(b: number): number { return EC === 1 ? b : EC === 2 ? b + BUCKETS * (this.cat === 2 ? 1 : 0) : b + BUCKETS * this.cat }
  #sc(): number { return SC === 3 ? this.sign : this.cat }

  encode(sink: BitSink, probs: Probs, r: number): void {
    const b = bucketOf(this.activity)
    if (r === 0) {
      sink.bit(probs, Z_BASE + this.#zc(b), 0)
      this.#after(0)
      return
    }
    sink.bit(probs, Z_BASE + this.#zc(b), 1)
    sink.bit(probs, S_BASE + this.#sc(), r < 0 ? 1 : 0)
    const a = r < 0 ? -r : r
    const e = floorLog2(a)
    const row = E_BASE + this.#ec(b) * CLASSES
    for (let j = 0; j < e; j++) sink.bit(probs, row + j, 1)
    if (e < CLASSES - 1) sink.bit(probs, row + e, 0)
    if (e >= 1) {
      let rest = a - 2 ** e
      const half = 2 ** (e - 1)
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
    this.#after(r)
  }

  decode(src: RangeDecoder, probs: Probs): number {
    const b = bucketOf(this.activity)
    if (src.bit(probs, Z_BASE + this.#zc(b)) === 0) {
      this.#after(0)
      return 0
    }
    const negative = src.bit(probs, S_BASE + this.#sc())
    const row = E_BASE + this.#ec(b) * CLASSES
    let e = 0
    while (e < CLASSES - 1 && src.bit(probs, row + e) === 1) e++
    let a = 2 ** e
    if (e >= 1) {
      const half = 2 ** (e - 1)
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

/** floor(log2 a) for an integer 1 ≤ a < 2^53. */
export function floorLog2(a: number): number {
  if (a < 0x80000000) return 31 - Math.clz32(a)
  let e = Math.floor(Math.log2(a))
  if (2 ** e > a) e--
  else if (2 ** (e + 1) <= a) e++
  return e
}

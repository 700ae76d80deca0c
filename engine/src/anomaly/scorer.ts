/**
 * Streaming anomaly score per entity, in [0, 1], one observation at a time.
 *
 * Method. Each dimension of the vector is watched by three cheap channels, each a statistic of the new value
 * against what this entity has shown so far (never anything later):
 *
 *   - range:  how far the value lies outside the range seen so far, as a fraction of that range. The range is
 *             the running min/max, shrinking very slowly towards its middle (1e-4 per observation) so a range
 *             once reached by a fault does not hide the next one forever. 2 % outside scores 0.5.
 *   - local:  |x − b| / MAD, where b is a short exponentially weighted baseline of the previous values
 *             (weight 0.1) and MAD the long-run mean absolute deviation of that residual (weight 0.001):
 *             spikes and sudden steps inside the range.
 *   - daily:  the same against an hour-of-day baseline: each of the 24 UTC hours of the day keeps its own
 *             weighted mean (weight 0.3 per observation), so the first values of an hour are compared with how
 *             that hour ended the previous day and later ones with the hour's own recent values: breaks in a
 *             daily rhythm (a missing peak, a flat day), and steps the local baseline has already absorbed.
 *             Timestamps may be irregular; only their hour matters.
 *
 * Calibration is per entity, per dimension and per channel, by records: the local and daily statistics alert
 * only when they exceed both a floor (6 and 5 MADs) and 1.2 × the largest value that statistic has shown
 * without alerting (from the 50th observation on). A noisy, heavy-tailed stream thereby raises its own bar and
 * a quiet one keeps it low, with no per-series setting. Each channel maps its statistic s to
 * `min(1, 0.5 · s / bar)`, so 0.5 (the default alert threshold) means "at the bar" in every channel; the
 * observation's score is the largest over channels and dimensions.
 *
 * Alerts then rest: after an alert, the next 200 observations cannot alert (their score is held just under the
 * threshold), because one event is one alert for whoever reads them. No score is above 0 for the first 100
 * observations (warm-up).
 *
 * Regime change: a two-sided CUSUM per dimension on the daily channel's standardised residual (drift 1, level
 * 12, in residual standard deviations ≈ 1.25 MAD; at most one per 200 observations) flags a sustained shift of
 * level; `observe()` returns it as `change`, for the segmenter to seal a segment early. It is a signal, not an
 * alert, and plays no part in the score.
 *
 * Cost: O(dimension) per observation, no allocation, no transcendental function (so scores are bit-for-bit
 * the same on every platform); state is 2 × 24 + 12 numbers per dimension (≈ 0.5 kB), plus a few per entity,
 * and `snapshot()` is plain JSON. There is no randomness at all.
 */
import { type AnomalyOptions, type ResolvedAnomalyOptions, resolveAnomalyOptions } from './options.ts'
import { type AnomalyState, parseAnomalyState } from './state.ts'

const DAY_MS = 86_400_000

/** What the scorer made of one observation. */
export interface AnomalyObservation {
  /** In [0, 1]; an alert when ≥ the threshold. */
  score: number
  alert: boolean
  /** A sustained shift of level in some dimension (CUSUM), for sealing a segment early. */
  change: boolean
  /** The dimension and channel behind the score (null when the score is 0). */
  dim: number | null
  channel: AnomalyChannel | null
}

export type AnomalyChannel = 'range' | 'local' | 'daily'

export interface AnomalyScorer {
  readonly options: Readonly<ResolvedAnomalyOptions>
  /** The vector dimension, fixed by the first observation (null before it). */
  readonly dimension: number | null
  /** Observations seen. */
  readonly count: number
  /** Scores one observation (and learns it). */
  score(ts: number, vector: readonly number[]): number
  /** Scores one observation (and learns it), with what lies behind the score. */
  observe(ts: number, vector: readonly number[]): AnomalyObservation
  /**
   * `observe`, writing the score and the change flag into `into` instead of a new object (the engine scores
   * every observation: one object less each).
   */
  observeInto(ts: number, vector: readonly number[], into: { score: number; change: boolean }): void
  /** The whole state, as plain JSON-able data; `restoreAnomalyScorer` continues from it exactly. */
  snapshot(): AnomalyState
}

// Per-dimension fields, packed in one Float64Array.
const N = 0 // finite values seen
const LO = 1
const HI = 2
const LOCAL_BASE = 3
const LOCAL_MAD = 4
const LOCAL_N = 5
const LOCAL_RECORD = 6
const DAILY_MAD = 7
const DAILY_N = 8
const DAILY_RECORD = 9
const CUSUM_UP = 10
const CUSUM_DOWN = 11
const SLOTS = 12
const FIXED = SLOTS

export function createAnomalyScorer(options?: AnomalyOptions): AnomalyScorer {
  return new Scorer(resolveAnomalyOptions(options), null, 0, null, null, null)
}

/** A scorer that continues from a snapshot (validated: a bad state is a clear error, never a half-restored scorer). */
export function restoreAnomalyScorer(state: unknown): AnomalyScorer {
  const s = parseAnomalyState(state)
  const options = resolveAnomalyOptions(s.options)
  if (s.dimension !== null) {
    const want = s.dimension * stride(options)
    if (s.dims.length !== want) throw new Error(`anomaly state: "dims" has ${s.dims.length} numbers, want ${want}`)
  }
  return new Scorer(options, s.dimension, s.count, s.lastAlert, s.lastChange, s.dimension === null ? null : Float64Array.from(s.dims))
}

function stride(o: ResolvedAnomalyOptions): number {
  return FIXED + 2 * o.dailySlots
}

class Scorer implements AnomalyScorer {
  readonly options: Readonly<ResolvedAnomalyOptions>
  #dim: number | null
  #count: number
  #lastAlert: number | null
  #lastChange: number | null
  #s: Float64Array | null
  readonly #stride: number
  /** Per-observation fade of the records (1: none). */
  readonly #fade: number

  constructor(
    options: ResolvedAnomalyOptions,
    dim: number | null,
    count: number,
    lastAlert: number | null,
    lastChange: number | null,
    s: Float64Array | null,
  ) {
    this.options = Object.freeze({ ...options })
    this.#dim = dim
    this.#count = count
    this.#lastAlert = lastAlert
    this.#lastChange = lastChange
    this.#s = s
    this.#stride = stride(options)
    this.#fade = options.recordHalfLife > 0 ? 0.5 ** (1 / options.recordHalfLife) : 1
  }

  get dimension(): number | null {
    return this.#dim
  }

  get count(): number {
    return this.#count
  }

  /** What the last #step found: the score (a field, not a return value: no number boxed per observation) and why. */
  #score = 0.5
  #alert = false
  #change = false
  #bestDim = -1
  #bestChannel: AnomalyChannel | null = null

  score(ts: number, vector: readonly number[]): number {
    this.#step(ts, vector)
    return this.#score
  }

  observe(ts: number, vector: readonly number[]): AnomalyObservation {
    this.#step(ts, vector)
    return {
      score: this.#score,
      alert: this.#alert,
      change: this.#change,
      dim: this.#bestDim < 0 ? null : this.#bestDim,
      channel: this.#bestChannel,
    }
  }

  observeInto(ts: number, vector: readonly number[], into: { score: number; change: boolean }): void {
    this.#step(ts, vector)
    into.score = this.#score
    into.change = this.#change
  }

  /** Scores and learns one observation: the score and the rest are left in #score, #alert, #change, #bestDim, #bestChannel. */
  #step(ts: number, vector: readonly number[]): void {
    if (!Number.isFinite(ts)) throw new Error(`anomaly: timestamp must be a finite number, got ${ts}`)
    if (this.#s === null || this.#dim === null) {
      if (vector.length === 0) throw new Error('anomaly: vector must have at least one dimension')
      this.#dim = vector.length
      this.#s = new Float64Array(vector.length * this.#stride)
    }
    if (vector.length !== this.#dim) throw new Error(`anomaly: vector has dimension ${vector.length}, this entity has ${this.#dim}`)
    const o = this.options
    const s = this.#s
    const i = this.#count
    const scoring = i >= o.warmup
    const recording = i >= o.recordFrom
    const fade = this.#fade
    const slots = o.dailySlots
    const slot = Math.floor((((ts % DAY_MS) + DAY_MS) % DAY_MS) / (DAY_MS / slots)) % slots
    let best = 0
    let bestDim = -1
    let bestChannel: AnomalyChannel | null = null
    let change = false

    for (let d = 0, base = 0; d < this.#dim; d++, base += this.#stride) {
      const x = vector[d] as number
      if (!Number.isFinite(x)) continue // a missing component: nothing to score, nothing to learn
      const n = s[N + base] as number

      // range
      if (n === 0) {
        s[LO + base] = x
        s[HI + base] = x
      } else {
        let lo = s[LO + base] as number
        let hi = s[HI + base] as number
        const width = hi - lo
        if (scoring && width > 0) {
          const outside = x > hi ? x - hi : x < lo ? lo - x : 0
          const v = clamp01(outside / width / (2 * o.rangeMargin))
          if (v > best) {
            best = v
            bestDim = d
            bestChannel = 'range'
          }
        }
        if (x > hi) hi = x
        if (x < lo) lo = x
        const mid = (hi + lo) / 2
        s[HI + base] = hi - (hi - mid) * o.rangeDecay
        s[LO + base] = lo + (mid - lo) * o.rangeDecay
      }
      const eps = 1e-9 * (1 + Math.abs(s[LO + base] as number) + Math.abs(s[HI + base] as number))

      // local
      {
        const localN = s[LOCAL_N + base] as number
        const baseline = localN === 0 ? x : (s[LOCAL_BASE + base] as number)
        const e = Math.abs(x - baseline)
        const z = localN > 1 ? e / ((s[LOCAL_MAD + base] as number) + eps) : 0
        const record = s[LOCAL_RECORD + base] as number
        if (scoring) {
          const v = clamp01((0.5 * z) / Math.max(o.localFloor, o.recordFactor * record))
          if (v > best) {
            best = v
            bestDim = d
            bestChannel = 'local'
          }
          if (v < 0.5) s[LOCAL_RECORD + base] = Math.max(record * fade, z)
        } else if (recording) s[LOCAL_RECORD + base] = Math.max(record, z)
        const a = Math.max(o.scaleAlpha, 1 / (localN + 1))
        s[LOCAL_N + base] = localN + 1
        s[LOCAL_MAD + base] = (s[LOCAL_MAD + base] as number) + a * (e - (s[LOCAL_MAD + base] as number))
        s[LOCAL_BASE + base] = baseline + o.localAlpha * (x - baseline)
      }

      // daily
      {
        const at = base + SLOTS + slot
        const seenAt = at + slots
        const seen = s[seenAt] as number
        const mean = s[at] as number
        const e = Math.abs(x - mean)
        const ready = seen >= o.dailyMinSeen
        const dailyN = s[DAILY_N + base] as number
        const mad = s[DAILY_MAD + base] as number
        const z = ready && dailyN > 10 ? e / (mad + eps) : 0
        const record = s[DAILY_RECORD + base] as number
        if (scoring) {
          const v = clamp01((0.5 * z) / Math.max(o.dailyFloor, o.recordFactor * record))
          if (v > best) {
            best = v
            bestDim = d
            bestChannel = 'daily'
          }
          if (v < 0.5) s[DAILY_RECORD + base] = Math.max(record * fade, z)
        } else if (recording) s[DAILY_RECORD + base] = Math.max(record, z)

        // change point: CUSUM of the standardised daily residual (σ ≈ 1.25 MAD), both ways
        if (ready && dailyN > 10) {
          let u = (x - mean) / (1.25 * mad + eps)
          if (u > 10) u = 10
          else if (u < -10) u = -10
          const up = Math.max(0, (s[CUSUM_UP + base] as number) + u - o.changeDrift)
          const down = Math.max(0, (s[CUSUM_DOWN + base] as number) - u - o.changeDrift)
          if (up > o.changeLevel || down > o.changeLevel) {
            change = true
            s[CUSUM_UP + base] = 0
            s[CUSUM_DOWN + base] = 0
          } else {
            s[CUSUM_UP + base] = up
            s[CUSUM_DOWN + base] = down
          }
        }

        if (ready) {
          const a = Math.max(o.scaleAlpha, 1 / (dailyN + 1))
          s[DAILY_N + base] = dailyN + 1
          s[DAILY_MAD + base] = mad + a * (e - mad)
        }
        const seenNext = seen + 1
        s[seenAt] = seenNext
        s[at] = mean + Math.max(o.dailyAlpha, 1 / seenNext) * (x - mean)
      }
      s[N + base] = n + 1
    }

    let score = best
    let alert = false
    if (score >= o.threshold) {
      if (this.#lastAlert !== null && i - this.#lastAlert <= o.rest) score = o.threshold * 0.9998
      else {
        alert = true
        this.#lastAlert = i
      }
    }
    if (change) {
      if (this.#lastChange !== null && i - this.#lastChange < o.changeGap) change = false
      else this.#lastChange = i
    }
    this.#count = i + 1
    this.#alert = alert
    this.#change = change
    this.#bestDim = bestDim
    this.#bestChannel = bestChannel
    this.#score = score
  }

  snapshot(): AnomalyState {
    return {
      v: 1,
      options: { ...this.options },
      dimension: this.#dim,
      count: this.#count,
      lastAlert: this.#lastAlert,
      lastChange: this.#lastChange,
      dims: this.#s === null ? [] : plainArray(this.#s),
    }
  }
}

/** The values of a Float64Array as a plain array (what Array.from gives, faster). */
function plainArray(values: Float64Array): number[] {
  const out = new Array<number>(values.length)
  for (let i = 0; i < values.length; i++) out[i] = values[i] as number
  return out
}

function clamp01(v: number): number {
  return Math.min(v, 1)
}

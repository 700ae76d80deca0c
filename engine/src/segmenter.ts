import { type Block, type PayloadOf, rawBlock } from '@vsdb/log'
import type { Observation } from './observations/types.ts'

export interface SegmenterConfig {
  /** Seal after this many observations. */
  maxCount: number
  /** Seal when an observation falls this far (ms) after the segment's first. */
  windowMs: number
  /** Observations scoring at or above this are the segment's alerts. */
  alertThreshold: number
  /** 'lossy' keeps every value within `errorFraction` of its dimension's range; 'lossless' keeps the bits. */
  codec: 'lossy' | 'lossless'
  errorFraction: number
  /** Seal early when the scorer reports a change of regime. */
  sealOnRegimeChange: boolean
}

export const DEFAULT_SEGMENTER_CONFIG: SegmenterConfig = {
  maxCount: 256,
  windowMs: 86_400_000,
  alertThreshold: 0.5,
  codec: 'lossy',
  errorFraction: 0.01,
  sealOnRegimeChange: true,
}

/** What the engine's anomaly model says of one observation: its score and whether the regime just changed. */
export interface Verdict {
  score: number
  change: boolean
}

/** The pieces a segmenter needs from outside: the per-entity model, the codec and the regime labeller. */
export interface SegmenterParts {
  observe(ts: number, vector: number[]): Verdict
  encode(ts: number[], vectors: number[][], errorBound: number[] | null): { codec: string; bytes: Uint8Array }
  regime(ts: number[], vectors: number[][], scores: number[]): string
}

/** The first `count` values of a Float64Array as a plain array (Array.from would go through an iterator). */
function plainArray(values: Float64Array, count: number): number[] {
  const out: number[] = []
  for (let i = 0; i < count; i++) out.push(values[i] as number)
  return out
}

/** A placeholder for rows let go of (the open segment's buffer of vectors keeps one type of element). */
const EMPTY: number[] = []

export interface SealedSegment {
  payload: PayloadOf<'segment'>
  block: Block
}

/** The serialisable state of one entity's open segment (for checkpoints). */
export interface SegmenterState {
  entity: string
  dim: number
  seen: number
  low: number[]
  high: number[]
  ts: number[]
  vectors: number[][]
  scores: number[]
}

/**
 * Cuts one entity's stream into segments. Observations are kept sorted by time inside the open segment (late
 * or duplicate timestamps are placed, never dropped); a segment seals by count, by time window, or when the
 * regime changes, and sealed segments never change. The error bound is a fraction of each dimension's range
 * as known when the segment seals. `seen` counts observations in arrival order: a segment records it as
 * `through`, so a restart knows which observations of the log are still open.
 */
export class EntitySegmenter {
  readonly entity: string
  readonly dim: number
  readonly #config: SegmenterConfig
  readonly #parts: SegmenterParts
  #seen = 0
  #low: number[]
  #high: number[]
  /**
   * The open segment, in time order: #count observations in buffers kept from one segment to the next (arrays
   * grown row by row and dropped at every seal were most of the garbage a segmenter made).
   */
  #count = 0
  #ts = new Float64Array(16)
  #scores = new Float64Array(16)
  #vectors: number[][] = []
  #zeros: number[] = []

  constructor(entity: string, dim: number, config: SegmenterConfig, parts: SegmenterParts, state?: SegmenterState) {
    this.entity = entity
    this.dim = dim
    this.#config = config
    this.#parts = parts
    this.#low = new Array<number>(dim).fill(Number.POSITIVE_INFINITY)
    this.#high = new Array<number>(dim).fill(Number.NEGATIVE_INFINITY)
    if (state !== undefined) {
      this.#seen = state.seen
      this.#low = [...state.low]
      this.#high = [...state.high]
      for (const [i, ts] of state.ts.entries()) this.#append(ts, [...(state.vectors[i] as number[])], state.scores[i] as number)
    }
  }

  get seen(): number {
    return this.#seen
  }

  get open(): number {
    return this.#count
  }

  /** Adds one observation (already scored or not: `verdict` comes from the model when omitted). */
  push(observation: Observation, sealed: SealedSegment[] = []): SealedSegment[] {
    const { ts, vector } = observation
    const verdict = this.#parts.observe(ts, vector)
    if (this.#count > 0 && (ts - (this.#ts[0] as number) >= this.#config.windowMs || (verdict.change && this.#config.sealOnRegimeChange))) {
      sealed.push(this.#seal())
    }
    this.#seen++
    for (let d = 0; d < this.dim; d++) {
      const x = vector[d] as number
      if (x < (this.#low[d] as number)) this.#low[d] = x
      if (x > (this.#high[d] as number)) this.#high[d] = x
    }
    this.#insert(ts, vector, verdict.score)
    if (this.#count >= this.#config.maxCount) sealed.push(this.#seal())
    return sealed
  }

  /** Room for one more observation in the open segment's buffers. */
  #reserve(): void {
    if (this.#count < this.#ts.length) return
    const ts = new Float64Array(this.#ts.length * 2)
    ts.set(this.#ts)
    this.#ts = ts
    const scores = new Float64Array(this.#scores.length * 2)
    scores.set(this.#scores)
    this.#scores = scores
  }

  #append(ts: number, vector: number[], score: number): void {
    this.#reserve()
    const at = this.#count++
    this.#ts[at] = ts
    this.#scores[at] = score
    this.#vectors[at] = vector
  }

  /** Places an observation by time: appended when in order (the usual case), else after equal timestamps. */
  #insert(ts: number, vector: number[], score: number): void {
    const count = this.#count
    if (count === 0 || ts >= (this.#ts[count - 1] as number)) {
      this.#append(ts, vector, score)
      return
    }
    let lo = 0
    let hi = count
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((this.#ts[mid] as number) <= ts) lo = mid + 1
      else hi = mid
    }
    const at = lo
    this.#reserve()
    this.#ts.copyWithin(at + 1, at, count)
    this.#scores.copyWithin(at + 1, at, count)
    for (let i = count; i > at; i--) this.#vectors[i] = this.#vectors[i - 1] as number[]
    this.#ts[at] = ts
    this.#scores[at] = score
    this.#vectors[at] = vector
    this.#count = count + 1
  }

  /** The open segment as plain arrays (copies), and it emptied: the sealed segment's rows. */
  #take(): { ts: number[]; vectors: number[][]; scores: number[] } {
    const count = this.#count
    // Packed arrays of exactly `count` doubles (not holey, as new Array(count) makes them, nor grown by push):
    // copies of a packed array of zeros, filled in.
    if (this.#zeros.length < count) this.#zeros = Array.from(new Float64Array(this.#ts.length))
    const ts = this.#zeros.slice(0, count)
    const scores = this.#zeros.slice(0, count)
    for (let i = 0; i < count; i++) {
      ts[i] = this.#ts[i] as number
      scores[i] = this.#scores[i] as number
    }
    const vectors = this.#vectors.slice(0, count)
    // Let go of the rows (the buffers stay for the next segment).
    this.#vectors.fill(EMPTY, 0, count)
    this.#count = 0
    return { ts, vectors, scores }
  }

  #seal(): SealedSegment {
    const { ts, vectors, scores } = this.#take()
    const count = ts.length
    const centroid = new Array<number>(this.dim).fill(0)
    const min = new Array<number>(this.dim).fill(Number.POSITIVE_INFINITY)
    const max = new Array<number>(this.dim).fill(Number.NEGATIVE_INFINITY)
    for (const vector of vectors) {
      for (let d = 0; d < this.dim; d++) {
        const x = vector[d] as number
        centroid[d] = (centroid[d] as number) + x
        if (x < (min[d] as number)) min[d] = x
        if (x > (max[d] as number)) max[d] = x
      }
    }
    for (let d = 0; d < this.dim; d++) centroid[d] = (centroid[d] as number) / count
    const errorBound =
      this.#config.codec === 'lossless' ? null : this.#low.map((low, d) => ((this.#high[d] as number) - low) * this.#config.errorFraction)
    const { codec, bytes } = this.#parts.encode(ts, vectors, errorBound)
    // The codec's bytes are the block as they are (raw codec): nothing wraps them.
    const block = rawBlock(bytes)
    const alerts: { ts: number; score: number }[] = []
    let anomaly = 0
    for (let i = 0; i < count; i++) {
      const score = scores[i] as number
      if (score > anomaly) anomaly = score
      if (score >= this.#config.alertThreshold) alerts.push({ ts: ts[i] as number, score })
    }
    return {
      block,
      payload: {
        entity: this.entity,
        from: ts[0] as number,
        to: ts[count - 1] as number,
        count,
        through: this.#seen,
        centroid,
        min,
        max,
        anomaly,
        alerts,
        regime: this.#parts.regime(ts, vectors, scores),
        codec,
        errorBound: errorBound ?? new Array<number>(this.dim).fill(0),
        data: block.cid,
      },
    }
  }

  state(): SegmenterState {
    const count = this.#count
    return {
      entity: this.entity,
      dim: this.dim,
      seen: this.#seen,
      low: [...this.#low],
      high: [...this.#high],
      ts: plainArray(this.#ts, count),
      vectors: this.#vectors.slice(0, count).map((v) => [...v]),
      scores: plainArray(this.#scores, count),
    }
  }
}

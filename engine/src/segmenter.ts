import { type Block, cidFor, type PayloadOf, RAW } from '@vsdb/log'
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
  #ts: number[] = []
  #vectors: number[][] = []
  #scores: number[] = []

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
      this.#ts = [...state.ts]
      this.#vectors = state.vectors.map((v) => [...v])
      this.#scores = [...state.scores]
    }
  }

  get seen(): number {
    return this.#seen
  }

  get open(): number {
    return this.#ts.length
  }

  /** Adds one observation (already scored or not: `verdict` comes from the model when omitted). */
  push(observation: Observation, sealed: SealedSegment[] = []): SealedSegment[] {
    const { ts, vector } = observation
    const verdict = this.#parts.observe(ts, vector)
    const first = this.#ts[0]
    if (first !== undefined && (ts - first >= this.#config.windowMs || (verdict.change && this.#config.sealOnRegimeChange))) {
      sealed.push(this.#seal())
    }
    this.#seen++
    for (let d = 0; d < this.dim; d++) {
      const x = vector[d] as number
      if (x < (this.#low[d] as number)) this.#low[d] = x
      if (x > (this.#high[d] as number)) this.#high[d] = x
    }
    this.#insert(ts, vector, verdict.score)
    if (this.#ts.length >= this.#config.maxCount) sealed.push(this.#seal())
    return sealed
  }

  /** Places an observation by time: appended when in order (the usual case), else after equal timestamps. */
  #insert(ts: number, vector: number[], score: number): void {
    let at = this.#ts.length
    if (at > 0 && ts < (this.#ts[at - 1] as number)) {
      let lo = 0
      let hi = at
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if ((this.#ts[mid] as number) <= ts) lo = mid + 1
        else hi = mid
      }
      at = lo
    }
    this.#ts.splice(at, 0, ts)
    this.#vectors.splice(at, 0, vector)
    this.#scores.splice(at, 0, score)
  }

  #seal(): SealedSegment {
    const ts = this.#ts
    const vectors = this.#vectors
    const scores = this.#scores
    this.#ts = []
    this.#vectors = []
    this.#scores = []
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
    const block = { cid: cidFor(bytes, RAW), bytes }
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
    return {
      entity: this.entity,
      dim: this.dim,
      seen: this.#seen,
      low: [...this.#low],
      high: [...this.#high],
      ts: [...this.#ts],
      vectors: this.#vectors.map((v) => [...v]),
      scores: [...this.#scores],
    }
  }
}

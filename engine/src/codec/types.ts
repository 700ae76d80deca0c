import type { CodecName, LOSSLESS_CODEC, LOSSY_CODEC } from './format.ts'
import type { CodecHints } from './hints.ts'

/** One segment of one entity: n timestamps (integer epoch ms, non-decreasing) and n vectors of one dimension. */
export interface SegmentObservations {
  ts: number[]
  vectors: number[][]
}

export interface LosslessOptions {
  codec: typeof LOSSLESS_CODEC
}

export interface LossyOptions {
  codec: typeof LOSSY_CODEC
  /** Per dimension, the largest |x − x̂| allowed; 0 keeps that dimension exact. */
  errorBound: readonly number[]
  /** The stream's hints (hints.ts), read and updated: the caller keeps one per stream, from segment to segment. */
  hints?: CodecHints
}

export type EncodeOptions = LosslessOptions | LossyOptions

export type { CodecName }

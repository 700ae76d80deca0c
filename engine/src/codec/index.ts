/**
 * Segment codecs: pure functions from one segment's observations to one self-describing block and back.
 *   'vsdb-lossless/1'  bit-exact: delta-of-delta timestamps in units of their common period, values as
 *                      decimal-scaled integers (or XOR floats as in Gorilla), per-block predictors, and an
 *                      adaptive binary range coder with parametric priors
 *   'vsdb-lossy/1'     the same, with each dimension quantised to its error bound: |x − x̂| ≤ e on every point
 *                      (a bound of 0 keeps that dimension exact)
 * The name goes in the segment event's `codec` field; the block's first byte says the same thing.
 * Limits: MAX_POINTS observations, MAX_DIM dimensions, MAX_VALUES values and timestamps within ±MAX_TIMESTAMP
 * per block; bad input throws VsdbError INVALID_INPUT naming the field, bad bytes CORRUPT_BLOCK.
 */
export { codecOf, decodeSegment } from './decode-segment.ts'
export { encodeSegment } from './encode-segment.ts'
export {
  CODECS,
  type CodecName,
  LOSSLESS_CODEC,
  LOSSY_CODEC,
  MAX_DIM,
  MAX_POINTS,
  MAX_TIMESTAMP,
  MAX_VALUES,
} from './format.ts'
export { type CodecHints, createCodecHints, parseCodecHints, snapshotCodecHints } from './hints.ts'
export type { EncodeOptions, LosslessOptions, LossyOptions, SegmentObservations } from './types.ts'

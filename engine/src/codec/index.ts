/**
 * Segment codecs: pure functions from one segment's observations to one self-describing block and back.
 *   'vsdb-lossless/1'  bit-exact: delta-of-delta timestamps, decimal-scaled integers (or XOR floats),
 *                      adaptive binary range coding
 *   'vsdb-lossy/1'     the same, with each dimension quantised to its error bound: |x − x̂| ≤ e on every point
 * The name goes in the segment event's `codec` field; the block's first byte says the same thing.
 */
export { decodeSegment, codecOf } from './decode-segment.ts'
export { encodeSegment } from './encode-segment.ts'
export {
  CODECS,
  type CodecName,
  LOSSLESS_CODEC,
  LOSSY_CODEC,
  MAX_DIM,
  MAX_POINTS,
  MAX_VALUES,
} from './format.ts'
export type { EncodeOptions, LosslessOptions, LossyOptions, SegmentObservations } from './types.ts'

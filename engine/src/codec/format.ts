/**
 * The block format. One tag byte — codec in the high nibble, format version in the low one — then a single
 * range-coded stream (range-coder.ts) holding everything else, header fields included:
 *
 *   n            1 bit "n = 256", else a wide integer
 *   dim          small integer dim - 1
 *   timestamps   timestamps.ts
 *   per dimension, in order:
 *     lossy codec only: 1 bit "quantised"; if set, the step (quantize.ts) and the indices as an integer
 *                       column (int-column.ts)
 *     otherwise (lossless): 1 bit "XOR floats"; if set, xor-floats.ts; else the decimal exponent (small,
 *                       zigzagged), the scaled integers as an integer column, 1 bit "corrected" and, if set,
 *                       one ulp correction per value (decimal.ts)
 *   sentinel     8 bits 0xA5: a truncated or damaged stream fails here with probability 255/256
 *
 * Integrity is the CID's job (blocks are content-addressed); the sentinel and the structural checks make a bad
 * block fail loudly instead of decoding quietly into other numbers.
 */
export const LOSSLESS_CODEC = 'vsdb-lossless/1'
export const LOSSY_CODEC = 'vsdb-lossy/1'
export const CODECS = [LOSSLESS_CODEC, LOSSY_CODEC] as const
export type CodecName = (typeof CODECS)[number]

export const LOSSLESS_TAG = 0x11
export const LOSSY_TAG = 0x21

export const SENTINEL = 0xa5
export const DEFAULT_COUNT = 256

/** Limits on a block: checked when encoding, and before any allocation when decoding. */
export const MAX_POINTS = 1 << 16
export const MAX_DIM = 4096
export const MAX_VALUES = 1 << 20
/**
 * Binary decisions one byte of coded data can hold at most: a decision narrows the range by at least
 * 1/4096 of itself (12-bit probabilities), i.e. costs at least log2(4096/4095) bits. Each value costs at
 * least one decision, so n and dim are checked against the byte length before decoding.
 */
export const MAX_DECISIONS_PER_BYTE = Math.ceil(8 / Math.log2(4096 / 4095))

export function tagOf(codec: CodecName): number {
  return codec === LOSSLESS_CODEC ? LOSSLESS_TAG : LOSSY_TAG
}

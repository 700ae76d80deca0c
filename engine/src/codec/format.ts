/**
 * The block format. One tag byte — codec (2 bits), format version (3 bits), and the count of zero bytes the
 * range coder dropped from the end (3 bits) — then a single range-coded stream (range-coder.ts) holding
 * everything else, header fields included, with no byte alignment anywhere:
 *
 *   n              1 bit "n = 256", else a wide integer                                  universal.ts
 *   dim            small integer dim - 1
 *   timestamps     period g (n > 1), "first on the grid" bit (g > 1), first timestamp,    timestamps.ts
 *                  "regular" bit (g > 0), else the steps as an integer column
 *   per dimension  dimension 0 only: 1 bit, the prior of the value contexts               int-prior.ts
 *                  lossy codec only: 1 bit "quantised"; if set, the step and the grid      quantize.ts
 *                    shift, then the indices as an integer column
 *                  otherwise 1 bit "XOR floats": Gorilla-style XOR of the bits            xor-floats.ts
 *                    or the decimal exponent, the scaled integers as an integer column,  decimal.ts
 *                    1 bit "corrected" and, if set, one ulp correction per value
 *   sentinel       8 bits 0xA5: a damaged stream fails here with probability 255/256; a truncated or
 *                  extended one fails on its length (the decoder reads exactly the bytes the tag accounts for)
 *
 * An integer column (int-column.ts) is its predictor (3 bits), activity speed (1 bit), anchor and starting
 * activity, then one adaptively coded residual per value (int-coder.ts). The adaptive contexts start at a
 * fixed prior in every block, so a block decodes alone.
 *
 * Integrity is the CID's job (blocks are content-addressed); the sentinel and the structural checks make a bad
 * block fail loudly instead of decoding quietly into other numbers.
 */
import { pow2 } from './exact-math.ts'

export const LOSSLESS_CODEC = 'vsdb-lossless/1'
export const LOSSY_CODEC = 'vsdb-lossy/1'
export const CODECS = [LOSSLESS_CODEC, LOSSY_CODEC] as const
export type CodecName = (typeof CODECS)[number]

/** Codec ids in the tag's top two bits (0 and 3 are unassigned). */
export const LOSSLESS_ID = 1
export const LOSSY_ID = 2
/** The format version this code writes and reads, in the tag's middle three bits. */
export const VERSION = 1

export const SENTINEL = 0xa5
export const DEFAULT_COUNT = 256

/** Limits on a block: checked when encoding, and before any allocation when decoding. */
export const MAX_POINTS = 1 << 16
export const MAX_DIM = 4096
export const MAX_VALUES = 1 << 20
/** Timestamps are kept within ±2^52 ms (±142 000 years), so every difference the codec takes is exact. */
export const MAX_TIMESTAMP = pow2(52)
/**
 * Binary decisions one byte of coded data can hold at most: a decision narrows the range by at least
 * 1/4096 of itself (12-bit probabilities), i.e. costs at least log2(4096/4095) bits. Each value costs at
 * least one decision, so n and dim are checked against the byte length before decoding.
 */
export const MAX_DECISIONS_PER_BYTE = Math.ceil(8 / Math.log2(4096 / 4095))

export function tagOf(codec: CodecName, pad: number): number {
  return ((codec === LOSSLESS_CODEC ? LOSSLESS_ID : LOSSY_ID) << 6) | (VERSION << 3) | pad
}

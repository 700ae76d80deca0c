/** decodeSegment: one block (format.ts) → its observations, checking every field before it is used. */
import { MAX_EXPONENT, MIN_EXPONENT, restore } from './decimal.ts'
import { corrupt } from './errors.ts'
import {
  type CodecName,
  DEFAULT_COUNT,
  LOSSLESS_CODEC,
  LOSSLESS_ID,
  LOSSY_CODEC,
  LOSSY_ID,
  MAX_DECISIONS_PER_BYTE,
  MAX_DIM,
  MAX_POINTS,
  MAX_VALUES,
  SENTINEL,
  VERSION,
} from './format.ts'
import { IntStream } from './int-coder.ts'
import { decodeIntColumn } from './int-column.ts'
import { resetIntProbs } from './int-prior.ts'
import { decoderContexts } from './models.ts'
import { getStep, OFFSET_BITS, reconstructValue } from './quantize.ts'
import { MAX_PAD, RangeDecoder } from './range-coder.ts'
import { decodeTimestamps } from './timestamps.ts'
import type { SegmentObservations } from './types.ts'
import { getSmall, getWide, unzigzag } from './universal.ts'
import { decodeXor } from './xor-floats.ts'

/** The codec a block was written with, and the zero bytes dropped from its end, from its tag byte. */
function readTag(bytes: Uint8Array): { codec: CodecName; pad: number } {
  if (!(bytes instanceof Uint8Array)) corrupt('expected a Uint8Array')
  if (bytes.length < 2) corrupt(`${bytes.length} bytes is too short for a block`)
  const tag = bytes[0]!
  const id = tag >> 6
  const version = (tag >> 3) & 7
  const pad = tag & 7
  if (id !== LOSSLESS_ID && id !== LOSSY_ID) corrupt(`unknown codec tag 0x${tag.toString(16).padStart(2, '0')}`)
  if (version !== VERSION) corrupt(`format version ${version} (this decoder reads version ${VERSION})`)
  if (pad > MAX_PAD) corrupt(`tag 0x${tag.toString(16)} claims ${pad} dropped bytes (at most ${MAX_PAD})`)
  return { codec: id === LOSSLESS_ID ? LOSSLESS_CODEC : LOSSY_CODEC, pad }
}

/** The codec a block was written with, from its tag byte. */
export function codecOf(bytes: Uint8Array): CodecName {
  return readTag(bytes).codec
}

export function decodeSegment(bytes: Uint8Array): SegmentObservations {
  const { codec, pad } = readTag(bytes)
  const lossy = codec === LOSSY_CODEC
  const src = new RangeDecoder(bytes, 1, pad)
  const n = src.direct(1) === 1 ? DEFAULT_COUNT : getWide(src)
  if (n < 1 || n > MAX_POINTS) corrupt(`${n} observations (1 to ${MAX_POINTS})`)
  const dim = getSmall(src, MAX_DIM - 1) + 1
  // Every value costs at least one binary decision: more than the bytes can hold means a damaged header.
  if (n * dim > MAX_VALUES || dim * (n - 1) > (bytes.length - 1 + MAX_PAD) * MAX_DECISIONS_PER_BYTE) {
    corrupt(`${n} × ${dim} values cannot fit in ${bytes.length} bytes`)
  }
  const models = decoderContexts()
  const ts = decodeTimestamps(src, models.ts, n)
  const values = new Float64Array(n * dim)
  for (let d = 0; d < dim; d++) {
    if (d === 0 && src.direct(1) === 1) resetIntProbs(models.val, 1)
    if (lossy && src.direct(1) === 1) {
      const step = getStep(src)
      const offset = src.direct(OFFSET_BITS)
      const q = decodeIntColumn(src, models.val, n)
      for (let i = 0; i < n; i++) values[i * dim + d] = reconstructValue(q[i]!, offset, step)
    } else if (src.direct(1) === 1) {
      decodeXor(src, models.xor, values, d, dim, n)
    } else {
      const k = unzigzag(getSmall(src, 2 * Math.max(MAX_EXPONENT, -MIN_EXPONENT) + 1))
      if (k < MIN_EXPONENT || k > MAX_EXPONENT) corrupt(`decimal exponent ${k}`)
      const m = decodeIntColumn(src, models.val, n)
      const corrected = src.direct(1) === 1
      const stream = new IntStream(0)
      for (let i = 0; i < n; i++) values[i * dim + d] = restore(m[i]!, k, corrected ? stream.decode(src, models.corr) : 0)
    }
  }
  if (src.direct(8) !== SENTINEL) corrupt('the end marker does not match (truncated or damaged)')
  src.end()
  const vectors = new Array<number[]>(n)
  for (let i = 0; i < n; i++) {
    const row = new Array<number>(dim)
    for (let d = 0; d < dim; d++) {
      const x = values[i * dim + d]!
      if (!Number.isFinite(x)) corrupt(`a non-finite value at [${i}][${d}]`)
      row[d] = x
    }
    vectors[i] = row
  }
  return { ts, vectors }
}

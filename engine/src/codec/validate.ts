/** The encoder's input checks: every refusal names the field. */
import { invalid } from './errors.ts'
import { CODECS, LOSSY_CODEC, MAX_DIM, MAX_POINTS, MAX_TIMESTAMP, MAX_VALUES } from './format.ts'
import type { EncodeOptions, SegmentObservations } from './types.ts'

export interface Checked {
  n: number
  dim: number
  /** Per dimension bound, or null for the lossless codec. */
  bounds: readonly number[] | null
}

export function checkInput(obs: SegmentObservations, options: EncodeOptions): Checked {
  if (obs === null || typeof obs !== 'object') invalid('observations', 'expected { ts, vectors }')
  const { ts, vectors } = obs
  if (!Array.isArray(ts)) invalid('ts', 'expected an array of timestamps')
  if (!Array.isArray(vectors)) invalid('vectors', 'expected an array of vectors')
  const n = ts.length
  if (n === 0) invalid('ts', 'a segment needs at least one observation')
  if (n > MAX_POINTS) invalid('ts', `${n} observations (at most ${MAX_POINTS} per segment)`)
  if (vectors.length !== n) invalid('vectors', `${vectors.length} vectors for ${n} timestamps`)
  for (let i = 0; i < n; i++) {
    const t = ts[i]
    if (!Number.isSafeInteger(t) || Math.abs(t as number) > MAX_TIMESTAMP) {
      invalid(`ts[${i}]`, `expected an integer epoch-ms timestamp within ±2^52, got ${String(t)}`)
    }
    if (i > 0 && (t as number) < ts[i - 1]!) invalid(`ts[${i}]`, `timestamps must not decrease (${t} after ${ts[i - 1]})`)
  }
  const first = vectors[0]
  if (!Array.isArray(first)) invalid('vectors[0]', 'expected an array of numbers')
  const dim = first.length
  if (dim === 0) invalid('vectors[0]', 'a vector needs at least one dimension')
  if (dim > MAX_DIM) invalid('vectors[0]', `dimension ${dim} (at most ${MAX_DIM})`)
  if (n * dim > MAX_VALUES) invalid('vectors', `${n} × ${dim} values (at most ${MAX_VALUES} per segment)`)
  for (let i = 0; i < n; i++) {
    const row = vectors[i]
    if (!Array.isArray(row)) invalid(`vectors[${i}]`, 'expected an array of numbers')
    if (row.length !== dim) invalid(`vectors[${i}]`, `dimension ${row.length}, expected ${dim}`)
    for (let d = 0; d < dim; d++) {
      const x = row[d]
      if (typeof x !== 'number' || !Number.isFinite(x)) invalid(`vectors[${i}][${d}]`, `expected a finite number, got ${String(x)}`)
    }
  }
  if (options === null || typeof options !== 'object' || !CODECS.includes(options.codec)) {
    invalid('codec', `expected one of ${CODECS.join(', ')}`)
  }
  if (options.codec !== LOSSY_CODEC) return { n, dim, bounds: null }
  const bounds = options.errorBound
  if (!Array.isArray(bounds) || bounds.length !== dim) {
    invalid('errorBound', `expected ${dim} bounds (one per dimension)`)
  }
  for (let d = 0; d < dim; d++) {
    const e = bounds[d]
    if (typeof e !== 'number' || !(e >= 0) || e === Number.POSITIVE_INFINITY) {
      invalid(`errorBound[${d}]`, `expected a finite bound ≥ 0, got ${String(e)}`)
    }
  }
  return { n, dim, bounds }
}

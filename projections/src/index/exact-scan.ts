import type { CompiledFilter } from './filter.ts'
import type { SegmentTable } from './segment-table.ts'
import { TopK } from './top-k.ts'
import type { SegmentSpace } from './types.ts'

export interface Ranked {
  labels: Float64Array
  distances: Float64Array
}

export interface ScanInput {
  table: SegmentTable
  /** Global labels to consider (an entity's list, or a whole dimension's), all of one dimension. */
  candidates: Uint32Array
  /** That dimension's centroids, local position × dim. */
  centroids: Float64Array
  dim: number
  query: readonly number[]
  k: number
  space: SegmentSpace
  filter: CompiledFilter
}

/**
 * Exact k-NN over the candidates that pass the filter: the filter is tested first (on the typed columns, each
 * test skipped when the filter leaves it open), the distance computed for matches only. Distances as hnswlib
 * defines them (squared L2; 1 − cosine), in float64 on the float64 centroids, so they may differ from
 * hnswlib's float32 figures in the 7th digit.
 */
export function exactScan(input: ScanInput): Ranked {
  const { table, candidates, centroids, dim, k, space, filter } = input
  const q = Float64Array.from(input.query)
  const local = table.local
  const entity = table.entity
  const regime = table.regime
  const from = table.from
  const to = table.to
  const anomaly = table.anomaly
  const e = filter.entity
  const r = filter.regime
  const lo = filter.from
  const hi = filter.to
  const min = filter.minAnomaly
  const x = filter.exclude
  const byEntity = e >= 0
  const byRegime = r >= 0
  const byFrom = lo > Number.NEGATIVE_INFINITY
  const byTo = hi < Number.POSITIVE_INFINITY
  const byAnomaly = min > Number.NEGATIVE_INFINITY
  const top = new TopK(k)
  let bound = Number.POSITIVE_INFINITY
  let qNorm = 0
  if (space === 'cosine') {
    for (let j = 0; j < dim; j++) qNorm += (q[j] as number) * (q[j] as number)
    qNorm = Math.sqrt(qNorm)
  }
  const n = candidates.length
  for (let i = 0; i < n; i++) {
    const label = candidates[i] as number
    if (
      (byEntity && entity[label] !== e) ||
      (byRegime && regime[label] !== r) ||
      (byFrom && (to[label] as number) < lo) ||
      (byTo && (from[label] as number) > hi) ||
      (byAnomaly && (anomaly[label] as number) < min) ||
      label === x
    ) {
      continue
    }
    const base = (local[label] as number) * dim
    let d = 0
    if (space === 'l2') {
      for (let j = 0; j < dim; j++) {
        const diff = (q[j] as number) - (centroids[base + j] as number)
        d += diff * diff
      }
    } else {
      let dot = 0
      let norm = 0
      for (let j = 0; j < dim; j++) {
        const c = centroids[base + j] as number
        dot += (q[j] as number) * c
        norm += c * c
      }
      // hnswlib leaves a zero vector unnormalised, so its inner product, and distance 1 − 0, are the same.
      d = qNorm > 0 && norm > 0 ? 1 - dot / (qNorm * Math.sqrt(norm)) : 1
    }
    if (d <= bound) {
      top.push(d, label)
      bound = top.bound
    }
  }
  return top.drain()
}

import { type CompiledFilter, matches } from './filter.ts'
import type { SegmentTable } from './segment-table.ts'

/**
 * Which way a filtered query runs: hnswlib's graph search with the filter as its callback, or an exact scan of
 * the candidates (an entity's own list when the filter names one, else the whole dimension).
 *
 * hnswlib's filtered search does not stop until it holds ef segments that pass the filter, so a selective
 * filter widens the search by itself (recall stays ≈ 1 down to 0.1 % selectivity in the bench) — but every
 * candidate it considers costs a call from C++ into the JS filter through N-API, and it considers about
 * 1.6·ef/p of them at selectivity p (the whole graph when fewer than ef match). The exact scan costs a
 * typed-array test per candidate and a distance per match. Measured by `npm run bench -- query` (100k
 * centroids of dimension 32, k = 10, ef 64; see its plan table):
 *   graph: ≈ 0.36 µs per considered candidate (callback + native distance + heap work), on top of the search;
 *   scan:  ≈ 3.8 ns per candidate tested, ≈ 1.8 ns per dimension per match.
 * At 100k segments the two meet near p ≈ 5–6 %: below it the scan wins (at 1 % it is ~8× faster, at 0.1 %
 * ~90×; an entity's own list of 2 % ~7×), above it the graph (at 50 % ~18× faster). Both apply the exact
 * filter; only the cost differs, so a wrong guess near the crossing costs time, never correctness.
 */
export const COST = {
  /** µs of the search itself, before any candidate is filtered. */
  graphBase: 50,
  /** µs per candidate the graph search hands to the JS filter. */
  graphVisit: 0.36,
  /** Candidates considered per result slot, over the selectivity. */
  graphVisitsPerEf: 1.6,
  /** µs per candidate label tested in a scan. */
  scanTest: 0.0038,
  /** µs per dimension of a distance in a scan. */
  scanDim: 0.0018,
}

/** Labels sampled to estimate a filter's selectivity over a candidate list. */
const SAMPLE = 512

export interface PlanInput {
  table: SegmentTable
  filter: CompiledFilter
  candidates: Uint32Array
  /** Whether the candidate list is exactly what the filter keeps (it names an entity and nothing else). */
  candidatesAreMatches: boolean
  /** Segments in the dimension's HNSW. */
  size: number
  dim: number
  ef: number
}

export interface Plan {
  plan: 'hnsw' | 'exact'
  estimatedMatches: number
  graphMicros: number
  scanMicros: number
}

export function estimateMatches(table: SegmentTable, filter: CompiledFilter, candidates: Uint32Array): number {
  const n = candidates.length
  if (n <= SAMPLE) {
    let hits = 0
    for (let i = 0; i < n; i++) if (matches(table, filter, candidates[i] as number)) hits++
    return hits
  }
  let hits = 0
  const step = n / SAMPLE
  for (let i = 0; i < SAMPLE; i++) if (matches(table, filter, candidates[Math.floor(i * step)] as number)) hits++
  return (hits * n) / SAMPLE
}

export function choosePlan(input: PlanInput): Plan {
  const { candidates, size, dim, ef } = input
  const estimatedMatches = input.candidatesAreMatches ? candidates.length : estimateMatches(input.table, input.filter, candidates)
  const p = Math.max(estimatedMatches, 1) / size
  const visits = Math.min(size, (COST.graphVisitsPerEf * ef) / p)
  const graphMicros = COST.graphBase + visits * COST.graphVisit
  const scanMicros = candidates.length * COST.scanTest + estimatedMatches * dim * COST.scanDim
  return { plan: scanMicros <= graphMicros ? 'exact' : 'hnsw', estimatedMatches, graphMicros, scanMicros }
}

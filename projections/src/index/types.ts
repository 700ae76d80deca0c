/**
 * The public shapes of the segment index: what goes in (a sealed segment's summary), what a query asks and
 * what it gets back.
 */

/**
 * The distance a query reports, as hnswlib computes it: `l2` is the SQUARED Euclidean distance (no square
 * root), `cosine` is 1 − cosine similarity (0 for the same direction, 2 for opposite ones).
 */
export type SegmentSpace = 'l2' | 'cosine'

/**
 * How a filtered query runs: `hnsw` walks the graph with the filter inside hnswlib's search (its filter
 * callback), `exact` scans the segments that match the filter and ranks them exactly (also without a filter:
 * brute force on request); `auto` (the default) picks the cheaper of the two from the filter's estimated
 * selectivity (see plan.ts). An unfiltered `auto` or `hnsw` query is a plain hnswlib search.
 */
export type SearchPlan = 'auto' | 'hnsw' | 'exact'

export interface SegmentIndexOptions {
  /** Default `l2`. */
  space?: SegmentSpace
  /** hnswlib's M: graph links per node and layer. Default 16. */
  m?: number
  /** hnswlib's efConstruction. Default 100 (recall@10 ≥ 0.99 at ef 64 on the bench data, a third faster to build than 200). */
  efConstruction?: number
  /** The seed of hnswlib's level generator: the same seed and insert order build the same graph, byte for byte. Default 100. */
  seed?: number
  /** Capacity of each dimension's HNSW when it is created; it doubles (resizeIndex) whenever it is full. Default 1024. */
  initialCapacity?: number
  /** hnswlib's ef at query time, raised to k when k is larger. Default 64. */
  efSearch?: number
}

/** The options a checkpoint does not fix: the rest (space, m, efConstruction, seed) come from its manifest. */
export interface LoadSegmentIndexOptions {
  efSearch?: number
  /** The sha-256 (hex) the manifest file must have: what `save` returned, recorded by an outer checkpoint. */
  manifestSha256?: string
}

/** One sealed segment as the index holds it: its CID, its entity's id, its time range, score, regime and centroid. */
export interface SegmentInput {
  /** The segment's CID (the `segment` event's CID), as a string. */
  cid: string
  entity: string
  /** First and last observation timestamps (ms), inclusive. */
  from: number
  to: number
  /** The segment's anomaly score in [0, 1]. */
  anomaly: number
  regime: string
  /** One value per dimension; every segment of an entity has the same dimension. */
  centroid: readonly number[]
}

/** A segment as stored, with its label: its position in insertion order, from 0. */
export interface SegmentRecord extends SegmentInput {
  label: number
}

/**
 * Filters, applied inside the search. A segment matches the time filter when it overlaps [from, to] (either
 * end may be left open); `minAnomaly` keeps segments scoring at least that much; `entity` and `regime` are exact.
 */
export interface SegmentFilters {
  entity?: string
  from?: number
  to?: number
  minAnomaly?: number
  regime?: string
  /** See {@link SearchPlan}; `auto` unless a test or a bench asks otherwise. */
  plan?: SearchPlan
}

export interface SegmentQuery extends SegmentFilters {
  /** The query vector; it goes to the index of its dimension. */
  vector: readonly number[]
  /** 1 ≤ k ≤ 10,000 and no more than the segments of that dimension. */
  k: number
}

export interface SegmentHit {
  cid: string
  entity: string
  /** See {@link SegmentSpace}: squared Euclidean for `l2`. */
  distance: number
  from: number
  to: number
  anomaly: number
  regime: string
}

/** How the queries so far have run: handy for benches and for a status page. */
export interface SearchCounters {
  queries: number
  unfiltered: number
  hnsw: number
  exact: number
  /** Filtered graph searches that came back with fewer than k hits and were redone as an exact scan. */
  fallbacks: number
}

/** What `save` wrote: the manifest (written last) and the digest of the content it covers. */
export interface SavedSegmentIndex {
  dir: string
  manifest: string
  /** sha-256 (hex) of the manifest file: an outer checkpoint can pin this one by it. */
  manifestSha256: string
  count: number
  digest: string
  bytes: number
}

/** One HNSW per dimension, as seen from outside. */
export interface DimensionStats {
  dim: number
  count: number
  capacity: number
}

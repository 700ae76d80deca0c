/** The vector index of the projections: segment centroids in HNSW (hnswlib-node), one index per dimension. */
export { COST as PLAN_COST } from './plan.ts'
export { createSegmentIndex, loadSegmentIndex, type SegmentIndex } from './segment-index.ts'
export type {
  DimensionStats,
  LoadSegmentIndexOptions,
  SavedSegmentIndex,
  SearchCounters,
  SearchPlan,
  SegmentFilters,
  SegmentHit,
  SegmentIndexOptions,
  SegmentInput,
  SegmentQuery,
  SegmentRecord,
  SegmentSpace,
} from './types.ts'
export { MAX_K } from './validate-input.ts'

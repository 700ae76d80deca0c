export {
  type CheckpointFiles,
  type CheckpointManifest,
  checkPosition,
  type LoadedCheckpoint,
  loadCheckpoint,
  type OpenedCheckpoint,
  openCheckpoint,
  type Rejected,
  readCheckpoint,
  readCheckpointFiles,
  writeCheckpoint,
} from './checkpoint.ts'
export { stateDigest } from './digest.ts'
export { eventsAfter } from './fold.ts'
export {
  createSegmentIndex,
  loadSegmentIndex,
  MAX_K,
  type SearchPlan,
  type SegmentFilters,
  type SegmentHit,
  type SegmentIndex,
  type SegmentIndexOptions,
  type SegmentInput,
  type SegmentQuery,
} from './index/index.ts'
export {
  type AlertRecord,
  createViews,
  type EntityView,
  matches,
  type Position,
  type RestoredSegments,
  type RestoredState,
  type RetentionView,
  type SegmentFilter,
  type SegmentRecord,
  type Views,
  type ViewsState,
} from './views.ts'

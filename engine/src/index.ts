export type { AlertRecord, EntityView, RetentionView, SegmentHit, SegmentRecord } from '@vsdb/projections'
export {
  type AnomalyOptions,
  type AnomalyScorer,
  createAnomalyScorer,
  createRegimeTracker,
  DEFAULT_ALERT_THRESHOLD,
  DEFAULT_ANOMALY_OPTIONS,
  restoreAnomalyScorer,
  segmentFeatures,
} from './anomaly/index.ts'
export {
  CODECS,
  type CodecHints,
  codecOf,
  createCodecHints,
  decodeSegment,
  type EncodeOptions,
  encodeSegment,
  LOSSLESS_CODEC,
  LOSSY_CODEC,
  type SegmentObservations,
} from './codec/index.ts'
export {
  decodeBatchBlock,
  type IngestOptions,
  type IngestProgress,
  type IngestSummary,
  ingestFiles,
  ingestRows,
  observationBatchBlock,
} from './ingest.ts'
export {
  type EngineParts,
  type EntityParts,
  type EventListener,
  type LiveAlert,
  type NodeOptions,
  type OpenAlert,
  openNode,
  type QueryOptions,
  type ReadOptions,
  type ReleaseSummary,
  type VsdbNode,
} from './node.ts'
export {
  detectFormat,
  type Observation,
  type ObservationColumns,
  type ObservationFormat,
  type ObservationSource,
  observationRowSchema,
  parseObservationColumns,
  parseObservationRows,
  parseTimestamp,
  readObservations,
} from './observations/index.ts'
export { defaultParts } from './parts.ts'
export { DEFAULT_SEGMENTER_CONFIG, type SegmenterConfig } from './segmenter.ts'
export { type ClusterStatus, clusterStatus, clusterStatusSchema } from './status.ts'

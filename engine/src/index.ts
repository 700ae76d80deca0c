export { type EntitySummary, entitySummaries } from '@vsdb/projections'
export { type IngestOptions, type IngestProgress, type IngestSummary, ingestFiles, observationBatchBlock } from './ingest.ts'
export { detectFormat, type Observation, type ObservationFormat, type ObservationSource, readObservations } from './observations/index.ts'
export { type ClusterStatus, clusterStatus, clusterStatusSchema } from './status.ts'

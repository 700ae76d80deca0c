/** Streaming anomaly scores, change points and regime labels per entity. */
export { type AnomalyOptions, DEFAULT_ALERT_THRESHOLD, DEFAULT_ANOMALY_OPTIONS, type ResolvedAnomalyOptions } from './options.ts'
export { createRegimeTracker, type RegimeOptions, type RegimeState, type RegimeTracker, restoreRegimeTracker } from './regime.ts'
export {
  type AnomalyChannel,
  type AnomalyObservation,
  type AnomalyScorer,
  createAnomalyScorer,
  restoreAnomalyScorer,
} from './scorer.ts'
export { segmentFeatures } from './segment-features.ts'
export { type AnomalyState, anomalyStateSchema } from './state.ts'

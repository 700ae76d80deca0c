export { observationRowSchema } from './jsonl.ts'
export { detectFormat, readObservations } from './read.ts'
export { type ObservationColumns, type ObservationRowsOptions, parseObservationColumns, parseObservationRows } from './rows.ts'
export { ObservationSpill, readSpilled, type SpilledRows } from './spill.ts'
export { parseTimestamp } from './timestamp.ts'
export {
  DEFAULT_BATCH_SIZE,
  DEFAULT_MAX_LINE_BYTES,
  MAX_FUTURE_MS,
  type Observation,
  type ObservationFormat,
  type ObservationSource,
} from './types.ts'

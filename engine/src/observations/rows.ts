import type { ReadContext } from './context.ts'
import { inputError } from './errors.ts'
import { observationOf } from './jsonl.ts'
import { DEFAULT_BATCH_SIZE, DEFAULT_MAX_LINE_BYTES, type Observation } from './types.ts'

export interface ObservationRowsOptions {
  /** The entity of rows without one. */
  entity?: string
  now?: number
  /** Each entity's dimension so far; checked and updated. */
  knownDimensions?: Map<string, number>
  /** The name of the list in error messages (`observations[3] field "vector.2": …`). */
  label?: string
}

/**
 * In-memory observations (an API batch) checked exactly as JSONL lines are: `{entity?, ts, vector, meta?}` each,
 * timestamps in range, one dimension per entity. The first bad row fails the whole list, naming its index and field.
 */
export function parseObservationRows(values: readonly unknown[], options: ObservationRowsOptions = {}): Observation[] {
  const label = options.label ?? 'observations'
  if (values.length === 0) throw inputError(label, {}, 'no observations')
  const ctx: ReadContext = {
    file: label,
    entity: options.entity,
    now: options.now ?? Date.now(),
    batchSize: DEFAULT_BATCH_SIZE,
    maxLineBytes: DEFAULT_MAX_LINE_BYTES,
    dims: options.knownDimensions ?? new Map(),
  }
  return values.map((value, index) => observationOf(ctx, value, { index }))
}

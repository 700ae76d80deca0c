import { checkTimestampRange, type ReadContext } from './context.ts'
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
  const ctx = rowsContext(values.length, options)
  return values.map((value, index) => observationOf(ctx, value, { index }))
}

/**
 * Observations as columns, as a binary frame carries them: each row an entity (an index into `entities`, whose
 * empty name stands for the batch's entity), a timestamp, and its entity's `dims` values in `values`, row after row.
 */
export interface ObservationColumns {
  entities: readonly string[]
  dims: readonly number[]
  rowEntity: Uint32Array
  ts: Float64Array
  values: Float64Array
}

/**
 * Columns checked exactly as the same rows would be by parseObservationRows, without a row object to check per
 * observation first: a row that does not pass the quick checks (integer timestamp in range, finite values, an
 * entity, its dimension) is made into its row object and handed to the row checks, which refuse it in their words.
 */
export function parseObservationColumns(columns: ObservationColumns, options: ObservationRowsOptions = {}): Observation[] {
  const { entities, dims, rowEntity, ts, values } = columns
  const count = ts.length
  const ctx = rowsContext(count, options)
  let total = 0
  for (let i = 0; i < count; i++) total += dims[rowEntity[i] as number] ?? Number.NaN
  if (
    rowEntity.length !== count ||
    dims.length !== entities.length ||
    !entities.every((name) => typeof name === 'string') ||
    !dims.every((d) => Number.isSafeInteger(d) && d >= 1) ||
    total !== values.length
  ) {
    throw inputError(
      ctx.file,
      {},
      'the columns do not add up: one entity index per timestamp, a name and a dimension ≥ 1 per entity, their values',
    )
  }
  const out: Observation[] = new Array(count)
  let at = 0
  for (let i = 0; i < count; i++) {
    const e = rowEntity[i] as number
    const dim = dims[e] as number
    const named = entities[e] as string
    const entity = named === '' ? ctx.entity : named
    const time = ts[i] as number
    const vector: number[] = []
    let plain = entity !== undefined && Number.isSafeInteger(time) && inRange(ctx, time)
    for (let d = 0; d < dim; d++) {
      const x = values[at++] as number
      if (!Number.isFinite(x)) plain = false
      vector.push(x)
    }
    const known = entity === undefined ? undefined : ctx.dims.get(entity)
    if (!plain || (known !== undefined && known !== dim)) {
      // The row checks throw here, naming the field; should they not, the quick checks were wrong, and say so.
      observationOf(ctx, named === '' ? { ts: time, vector } : { entity: named, ts: time, vector }, { index: i })
      throw new Error(`observation ${i}: the column checks refused a row the row checks take`)
    }
    if (known === undefined) ctx.dims.set(entity as string, dim)
    out[i] = { entity: entity as string, ts: time, vector }
  }
  return out
}

/** Whether the row checks' range check (checkTimestampRange, the one rule for it) takes `ts`. */
function inRange(ctx: ReadContext, ts: number): boolean {
  try {
    checkTimestampRange(ctx, ts, '', {})
    return true
  } catch {
    return false
  }
}

function rowsContext(count: number, options: ObservationRowsOptions): ReadContext {
  const label = options.label ?? 'observations'
  if (count === 0) throw inputError(label, {}, 'no observations')
  return {
    file: label,
    entity: options.entity,
    now: options.now ?? Date.now(),
    batchSize: DEFAULT_BATCH_SIZE,
    maxLineBytes: DEFAULT_MAX_LINE_BYTES,
    dims: options.knownDimensions ?? new Map(),
  }
}

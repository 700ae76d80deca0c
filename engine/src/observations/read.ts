import { stat } from 'node:fs/promises'
import { basename, extname } from 'node:path'
import type { ReadContext } from './context.ts'
import { readCsv } from './csv.ts'
import { fileError, inputError } from './errors.ts'
import { readJsonl } from './jsonl.ts'
import { DEFAULT_BATCH_SIZE, DEFAULT_MAX_LINE_BYTES, type Observation, type ObservationFormat, type ObservationSource } from './types.ts'

const EXTENSIONS: Record<string, ObservationFormat> = {
  '.csv': 'csv',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
}

/** The format of an observation file from its extension: `.csv` → csv, `.jsonl`/`.ndjson` → jsonl (any case). */
export function detectFormat(path: string): ObservationFormat {
  const format = EXTENSIONS[extname(path).toLowerCase()]
  if (format === undefined) {
    throw inputError(
      path,
      { field: 'format' },
      'cannot tell the format from the file name (.csv, .jsonl or .ndjson); pass --format csv|jsonl',
    )
  }
  return format
}

function positiveInteger(path: string, name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value < 1) {
    throw inputError(path, { field: name }, `${name} must be a positive integer, got ${value}`)
  }
  return value
}

/**
 * Read the observations of one CSV or JSONL file, streamed from disk, in batches of `batchSize` (default 1,000).
 * Every bad row fails the read with a `VsdbError('INVALID_INPUT')` naming file, line and column/field; rows
 * before it have already been yielded, so callers that must not half-write should stage batches until the
 * generator finishes (or validate in a first pass). A missing file is `NOT_FOUND`.
 *
 * Entity: the row's `entity` (JSONL), else `source.entity` (--entity), else for CSV the file name without extension.
 */
export async function* readObservations(source: ObservationSource): AsyncGenerator<Observation[]> {
  const file = source.path
  const format = source.format ?? detectFormat(file)
  if (format !== 'csv' && format !== 'jsonl') {
    throw inputError(file, { field: 'format' }, `unknown format ${JSON.stringify(format)} (expected csv or jsonl)`)
  }
  if (source.entity !== undefined && (typeof source.entity !== 'string' || source.entity.trim() === '')) {
    throw inputError(file, { field: 'entity' }, '--entity must be a non-empty string')
  }
  const now = source.now ?? Date.now()
  if (!Number.isFinite(now)) throw inputError(file, { field: 'now' }, `now must be epoch milliseconds, got ${now}`)
  const ctx: ReadContext = {
    file,
    entity: source.entity,
    now,
    batchSize: positiveInteger(file, 'batchSize', source.batchSize, DEFAULT_BATCH_SIZE),
    maxLineBytes: positiveInteger(file, 'maxLineBytes', source.maxLineBytes, DEFAULT_MAX_LINE_BYTES),
    dims: source.knownDimensions ?? new Map(),
    onBytes: source.onBytes,
    validateOnly: source.validateOnly === true,
    spill: source.validateOnly === true ? source.spill : undefined,
  }
  try {
    const info = await stat(file)
    if (info.isDirectory()) throw inputError(file, {}, 'is a directory, not a file')
    if (info.isFile() && info.size === 0) {
      throw inputError(
        file,
        {},
        format === 'csv'
          ? 'the file is empty (expected a header row with "timestamp" and numeric columns)'
          : 'the file is empty (expected one JSON object per line)',
      )
    }
    if (format === 'csv') {
      const entity = source.entity ?? basename(file, extname(file))
      yield* readCsv(ctx, entity)
    } else {
      yield* readJsonl(ctx)
    }
  } catch (err) {
    throw fileError(file, err) ?? err
  }
}

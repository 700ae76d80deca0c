import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type AppendInput, encodeBlock, type Log, type PayloadOf, type StoredEvent, VsdbError } from '@vsdb/log'
import type { CID } from 'multiformats/cid'
import { DEFAULT_BATCH_SIZE, ObservationSpill, readObservations, readSpilled, type SpilledRows } from './observations/index.ts'
import type { Observation, ObservationFormat } from './observations/types.ts'

export interface IngestOptions {
  /**
   * Turns one entity's rows into the events to append with their `ingest` event (the node's segmenter:
   * sealed segments). Called in order, before anything of the ingest is written.
   */
  stage?: (entity: string, rows: Observation[]) => AppendInput[]
  /** Told the events of each batch once they are durable (the node folds them without reading them back). */
  onCommitted?: (events: StoredEvent[]) => void
  format?: ObservationFormat
  entity?: string
  now?: number
  batchSize?: number
  /** Called after each committed batch: rows so far, and bytes of the current file read so far where known. */
  onProgress?: (progress: IngestProgress) => void
}

export interface IngestProgress {
  file: string
  /** Inputs over 8 MiB (STAGE_LIMIT_BYTES) are read twice: once to validate every row, once to write. */
  pass: 'validate' | 'write'
  rows: number
  fileBytes: number
  totalBytes: number
}

export interface IngestSummary {
  files: number
  rows: number
  events: number
  /** Segments sealed by this ingest. */
  segments: number
  entities: string[]
  from: number | null
  to: number | null
  head: string | null
}

/** True where typed arrays are little-endian (every platform Node runs on; checked, not assumed). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** The little-endian float64 bytes of `values`. */
function float64Bytes(values: Float64Array): Uint8Array {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength)
  if (!LITTLE_ENDIAN) for (let i = 0; i < bytes.length; i += 8) bytes.subarray(i, i + 8).reverse()
  return bytes
}

/** The float64 values of little-endian bytes (copied: a decoded byte string need not be 8-byte aligned). */
function float64sOf(bytes: Uint8Array): Float64Array {
  const copy = bytes.slice()
  if (!LITTLE_ENDIAN) for (let i = 0; i < copy.length; i += 8) copy.subarray(i, i + 8).reverse()
  return new Float64Array(copy.buffer, 0, copy.length / 8)
}

/**
 * A batch of observations as a block: columns rather than rows, packed. `ts` is the timestamps and `values` the
 * vectors row after row (`dim` values each), both as little-endian float64 byte strings: exactly the numbers
 * read (−0 included), and one copy to encode or decode instead of a CBOR float per value. (Blocks written
 * before held `ts: number[]` and `vectors: number[][]`; decodeBatchBlock reads both. The engine's segment codec
 * replaces these blocks' role once segments are sealed.)
 */
export function observationBatchBlock(
  entity: string,
  rows: Observation[],
): { block: ReturnType<typeof encodeBlock>; from: number; to: number } {
  const n = rows.length
  const dim = (rows[0] as Observation).vector.length
  const ts = new Float64Array(n)
  const values = new Float64Array(n * dim)
  let from = Number.POSITIVE_INFINITY
  let to = Number.NEGATIVE_INFINITY
  let hasMeta = false
  for (let i = 0; i < n; i++) {
    const row = rows[i] as Observation
    const t = row.ts
    ts[i] = t
    if (t < from) from = t
    if (t > to) to = t
    const vector = row.vector
    if (vector.length !== dim) {
      throw new VsdbError('INVALID_INPUT', `observation ${i} of entity ${entity} has ${vector.length} values, the batch ${dim}`, {
        field: 'vector',
      })
    }
    const base = i * dim
    for (let d = 0; d < dim; d++) values[base + d] = vector[d] as number
    if (row.meta !== undefined) hasMeta = true
  }
  const meta = hasMeta ? rows.map((r) => r.meta ?? null) : null
  return { block: encodeBlock({ entity, dim, ts: float64Bytes(ts), values: float64Bytes(values), meta }), from, to }
}

/** The observations of an `ingest` event's batch block, in arrival order (either form: packed, or the arrays of old). */
export function decodeBatchBlock(value: unknown): { entity: string; ts: number[]; vectors: number[][] } {
  const batch = value as { entity?: unknown; ts?: unknown; vectors?: unknown; dim?: unknown; values?: unknown }
  const bad = () =>
    new VsdbError(
      'INVALID_EVENT',
      'an ingest batch block does not hold {entity, dim, ts, values} (nor, as written before, {entity, ts[], vectors[][]})',
    )
  if (typeof batch.entity !== 'string') throw bad()
  if (batch.ts instanceof Uint8Array) {
    const { dim, values } = batch
    if (
      !(values instanceof Uint8Array) ||
      typeof dim !== 'number' ||
      !Number.isSafeInteger(dim) ||
      dim < 1 ||
      batch.ts.length % 8 !== 0 ||
      values.length !== batch.ts.length * dim
    ) {
      throw bad()
    }
    const ts = Array.from(float64sOf(batch.ts))
    const flat = float64sOf(values)
    const vectors: number[][] = new Array(ts.length)
    for (let i = 0; i < ts.length; i++) vectors[i] = Array.from(flat.subarray(i * dim, (i + 1) * dim))
    return { entity: batch.entity, ts, vectors }
  }
  if (!Array.isArray(batch.ts) || !Array.isArray(batch.vectors) || batch.ts.length !== batch.vectors.length) throw bad()
  return { entity: batch.entity, ts: batch.ts as number[], vectors: batch.vectors as number[][] }
}

function ingestInputs(rows: Observation[], stage: IngestOptions['stage']): AppendInput[] {
  const byEntity = new Map<string, Observation[]>()
  for (const row of rows) {
    const list = byEntity.get(row.entity)
    if (list === undefined) byEntity.set(row.entity, [row])
    else list.push(row)
  }
  return [...byEntity].flatMap(([entity, list]) => {
    const { block, from, to } = observationBatchBlock(entity, list)
    const batch: CID = block.cid
    const ingest: AppendInput<'ingest'> = {
      type: 'ingest',
      payload: { entity, count: list.length, dim: (list[0] as Observation).vector.length, from, to, batch },
      blocks: [block],
    }
    return [ingest, ...(stage?.(entity, list) ?? [])]
  })
}

/**
 * Up to this many bytes of input are parsed whole before anything is written; beyond it, a first pass validates
 * (cheaply: no object per row), keeping a CSV's checked rows as float64 in a temporary file (observations/spill.ts),
 * and a second writes batch by batch from those rows (or, for JSONL, by reading the file again). Staged, everything
 * an ingest writes is in memory at once — about 250 MB of RSS for 16 MiB of 8-d CSV — so the limit keeps a 1M-row
 * input (≥ 15 MB as CSV) streaming, in bounded memory.
 */
const STAGE_LIMIT_BYTES = 8 * 1024 * 1024

/**
 * Reads files of observations and appends one `ingest` event per entity per batch, each linking its batch
 * block. Nothing is half-written: every row of every file is validated before the first event is appended
 * (parsed into memory and committed as one atomic batch, or for inputs over 8 MiB validated in a first pass
 * and then committed batch by batch). A bad row fails with an error naming file, line and column. Spilled rows
 * live in a directory of the system's temporary one for the length of the call.
 */
export async function ingestFiles(
  log: Log,
  files: string[],
  options: IngestOptions,
  /** Each entity's vector dimension so far (the node's views); updated as files introduce entities. */
  knownDimensions: Map<string, number>,
): Promise<IngestSummary> {
  const sizes: number[] = []
  for (const file of files) {
    try {
      sizes.push((await stat(file)).size)
    } catch {
      throw new VsdbError('INVALID_INPUT', `cannot read ${file}: no such file`, { path: file })
    }
  }
  const totalBytes = sizes.reduce((a, b) => a + b, 0)
  const staged = totalBytes <= STAGE_LIMIT_BYTES
  let doneBytes = 0
  let rowsSoFar = 0
  // One "now" for both passes: a row near the future limit gets the same answer in each.
  const now = options.now ?? Date.now()
  const read = (file: string, dims: Map<string, number>, pass: IngestProgress['pass'], spill?: ObservationSpill) =>
    readObservations({
      path: file,
      format: options.format,
      entity: options.entity,
      now,
      batchSize: options.batchSize,
      knownDimensions: dims,
      // The first pass only checks (the same checks, no object per row), keeping a CSV's rows for the second.
      validateOnly: pass === 'validate',
      spill,
      onBytes: (bytes) => options.onProgress?.({ file, pass, rows: rowsSoFar, fileBytes: doneBytes + bytes, totalBytes }),
    })

  // Without a temporary directory the write pass reads the files again: spilling only saves time.
  const spillDir = staged ? null : await mkdtemp(join(tmpdir(), 'vsdb-ingest-')).catch(() => null)
  const removeSpill = (path: string) => rm(path, { recursive: true, force: true }).catch(() => {})
  try {
    const spilled: (SpilledRows | null)[] = []
    if (!staged) {
      const dims = new Map(knownDimensions)
      for (const [i, file] of files.entries()) {
        const spill = spillDir === null ? undefined : new ObservationSpill(join(spillDir, `${i}.f64`))
        try {
          for await (const _ of read(file, dims, 'validate', spill));
        } finally {
          spilled.push(spill?.close() ?? null)
        }
        doneBytes += sizes[i] ?? 0
      }
      doneBytes = 0
    }

    const batches = createBatchCommitter(log, options)
    try {
      for (const [i, file] of files.entries()) {
        const kept = spilled[i] ?? null
        const size = sizes[i] ?? 0
        if (kept !== null && !knownDimensions.has(kept.entity)) knownDimensions.set(kept.entity, kept.dim)
        const source =
          kept === null
            ? read(file, knownDimensions, 'write')
            : readSpilled(kept, options.batchSize ?? DEFAULT_BATCH_SIZE, (rows) =>
                options.onProgress?.({
                  file,
                  pass: 'write',
                  rows: rowsSoFar,
                  fileBytes: doneBytes + (size * rows) / kept.rows,
                  totalBytes,
                }),
              )
        for await (const rows of source) {
          batches.stage(rows)
          rowsSoFar = batches.summary.rows
          if (!staged) await batches.commit()
        }
        if (kept !== null) await removeSpill(kept.path)
        doneBytes += size
        batches.summary.files++
        options.onProgress?.({ file, pass: 'write', rows: batches.summary.rows, fileBytes: doneBytes, totalBytes })
      }
    } catch (err) {
      // Told of the write in flight (or of its failure) before the caller is told of this one.
      await batches.settle()
      throw err
    }
    return await batches.finish()
  } finally {
    if (spillDir !== null) await removeSpill(spillDir)
  }
}

/**
 * Appends in-memory observations, already checked (`parseObservationRows`), as one atomic batch of `ingest`
 * events (one per entity) and whatever `stage` seals with them.
 */
export async function ingestRows(
  log: Log,
  rows: Observation[],
  options: Pick<IngestOptions, 'stage' | 'onCommitted'>,
): Promise<IngestSummary> {
  return (await ingestRowGroups(log, [rows], options))[0] as IngestSummary
}

/**
 * Appends several callers' observations (each group already checked) as one atomic batch: the groups in order,
 * each staged as `ingestRows` stages its rows, one write for all. Each group gets its own summary (its events and
 * its last one as `head`); a failed write fails them all.
 */
export async function ingestRowGroups(
  log: Log,
  groups: Observation[][],
  options: Pick<IngestOptions, 'stage' | 'onCommitted'>,
): Promise<IngestSummary[]> {
  const staged = groups.map((rows) => {
    const inputs = ingestInputs(rows, options.stage)
    const summary = emptySummary()
    const entities = new Set<string>()
    addToSummary(summary, entities, inputs, rows.length)
    summary.entities = [...entities].sort()
    return { inputs, summary }
  })
  const events = await log.appendBatch(staged.flatMap((group) => group.inputs))
  options.onCommitted?.(events)
  let at = 0
  for (const { inputs, summary } of staged) {
    const mine = events.slice(at, at + inputs.length)
    at += inputs.length
    summary.events = mine.length
    summary.head = mine.at(-1)?.cid.toString() ?? null
  }
  return staged.map((group) => group.summary)
}

function emptySummary(): IngestSummary {
  return { files: 0, rows: 0, events: 0, segments: 0, entities: [], from: null, to: null, head: null }
}

/** Counts staged events into a summary: its segments, and the entities and time range of its `ingest` events. */
function addToSummary(summary: IngestSummary, entities: Set<string>, inputs: AppendInput[], rows: number): void {
  for (const input of inputs) {
    if (input.type === 'segment') summary.segments++
    if (input.type !== 'ingest') continue
    const { entity, from, to } = input.payload as PayloadOf<'ingest'>
    entities.add(entity)
    summary.from = summary.from === null ? from : Math.min(summary.from, from)
    summary.to = summary.to === null ? to : Math.max(summary.to, to)
  }
  summary.rows += rows
}

/**
 * Stages rows as events, commits them when told, and keeps the ingest's summary. A commit hands its batch to
 * the log once the batch before it is durable, and returns without waiting for its own write: the next batch is
 * read and staged while this one is written. A failed write is thrown by the next commit (or by finish) before
 * anything after it reaches the log. `settle` waits for the write in flight, whatever its outcome.
 */
function createBatchCommitter(log: Log, options: Pick<IngestOptions, 'stage' | 'onCommitted'>) {
  const summary = emptySummary()
  const entities = new Set<string>()
  const pending: AppendInput[] = []
  let writing: Promise<void> = Promise.resolve()
  const commit = async (): Promise<void> => {
    const inputs = pending.splice(0)
    await writing
    writing = log.appendBatch(inputs).then((events) => {
      options.onCommitted?.(events)
      summary.events += events.length
      summary.head = events.at(-1)?.cid.toString() ?? summary.head
    })
    // Awaited by the next commit, finish or settle; until then a failure must not count as unhandled.
    writing.catch(() => {})
  }
  const settle = (): Promise<void> => writing.catch(() => {})
  const stage = (rows: Observation[]): void => {
    const inputs = ingestInputs(rows, options.stage)
    pending.push(...inputs)
    addToSummary(summary, entities, inputs, rows.length)
  }
  const finish = async (): Promise<IngestSummary> => {
    await commit()
    await writing
    summary.entities = [...entities].sort()
    return summary
  }
  return { summary, stage, commit, finish, settle }
}

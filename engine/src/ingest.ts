import { stat } from 'node:fs/promises'
import { type AppendInput, encodeBlock, type Log } from '@vsdb/log'
import type { CID } from 'multiformats/cid'
import { readObservations } from './observations/index.ts'
import type { Observation, ObservationFormat } from './observations/types.ts'
import { entityDimensions } from './views.ts'

export interface IngestOptions {
  format?: ObservationFormat
  entity?: string
  now?: number
  batchSize?: number
  /** Called after each committed batch: rows so far, and bytes of the current file read so far where known. */
  onProgress?: (progress: IngestProgress) => void
}

export interface IngestProgress {
  file: string
  rows: number
  fileBytes: number
  totalBytes: number
}

export interface IngestSummary {
  files: number
  rows: number
  events: number
  entities: string[]
  from: number | null
  to: number | null
  head: string | null
}

/**
 * A batch of observations as a block: columns rather than rows, so the encoding stays small
 * (the engine's segment codec replaces this once segments are sealed).
 */
export function observationBatchBlock(
  entity: string,
  rows: Observation[],
): { block: ReturnType<typeof encodeBlock>; from: number; to: number } {
  const ts = rows.map((r) => r.ts)
  const vectors = rows.map((r) => r.vector)
  const meta = rows.some((r) => r.meta !== undefined) ? rows.map((r) => r.meta ?? null) : null
  return { block: encodeBlock({ entity, ts, vectors, meta }), from: Math.min(...ts), to: Math.max(...ts) }
}

function ingestInputs(rows: Observation[]): AppendInput<'ingest'>[] {
  const byEntity = new Map<string, Observation[]>()
  for (const row of rows) {
    const list = byEntity.get(row.entity)
    if (list === undefined) byEntity.set(row.entity, [row])
    else list.push(row)
  }
  return [...byEntity].map(([entity, list]) => {
    const { block, from, to } = observationBatchBlock(entity, list)
    const batch: CID = block.cid
    return {
      type: 'ingest',
      payload: { entity, count: list.length, dim: (list[0] as Observation).vector.length, from, to, batch },
      blocks: [block],
    }
  })
}

/**
 * Reads files of observations and appends one `ingest` event per entity per batch, each linking its batch
 * block. Every row is validated before its batch is appended; a bad row stops the ingest with an error naming
 * file, line and column, and what was acknowledged before it stays.
 */
export async function ingestFiles(log: Log, files: string[], options: IngestOptions = {}): Promise<IngestSummary> {
  const knownDimensions = await entityDimensions(log)
  const entities = new Set<string>()
  const summary: IngestSummary = { files: 0, rows: 0, events: 0, entities: [], from: null, to: null, head: null }
  let totalBytes = 0
  for (const file of files) totalBytes += (await stat(file)).size
  let doneBytes = 0
  for (const file of files) {
    const size = (await stat(file)).size
    for await (const rows of readObservations({
      path: file,
      format: options.format,
      entity: options.entity,
      now: options.now,
      batchSize: options.batchSize,
      knownDimensions,
    })) {
      const events = await log.appendBatch(ingestInputs(rows))
      for (const { event } of events) {
        const p = event.payload as { entity: string; from: number; to: number }
        entities.add(p.entity)
        summary.from = summary.from === null ? p.from : Math.min(summary.from, p.from)
        summary.to = summary.to === null ? p.to : Math.max(summary.to, p.to)
      }
      summary.events += events.length
      summary.rows += rows.length
      summary.head = events.at(-1)?.cid.toString() ?? summary.head
      options.onProgress?.({ file, rows: summary.rows, fileBytes: doneBytes, totalBytes })
    }
    doneBytes += size
    summary.files++
    options.onProgress?.({ file, rows: summary.rows, fileBytes: doneBytes, totalBytes })
  }
  summary.entities = [...entities].sort()
  return summary
}

/** One observation of one entity: integer epoch milliseconds, a vector, optional flat metadata. */
export interface Observation {
  entity: string
  ts: number
  vector: number[]
  meta?: Record<string, string | number | boolean>
}

export type ObservationFormat = 'csv' | 'jsonl'

/** What `readObservations` reads, and how. Only `path` is required. */
export interface ObservationSource {
  /** The file to read (streamed, never loaded whole). Shown as given in error messages. */
  path: string
  /** `csv` or `jsonl`; default from the extension (see `detectFormat`). */
  format?: ObservationFormat
  /** The entity of every CSV row, and of JSONL rows without an `entity`; default: the file name without extension for CSV. */
  entity?: string
  /** "Now" in epoch ms for the future-timestamp check (rows more than 1 day after it are rejected); default Date.now(). */
  now?: number
  /** Observations per yielded batch; default 1,000. */
  batchSize?: number
  /** Longest accepted line (CSV record / JSONL line), in bytes; default 1 MiB. Longer lines fail without being buffered whole. */
  maxLineBytes?: number
  /**
   * Vector dimension per entity, checked and updated as rows are read. Pass the same map when reading several
   * files of one ingest so that an entity cannot change dimension from one file to the next.
   */
  knownDimensions?: Map<string, number>
  /** Told the bytes of the file read so far as chunks arrive, for progress bars. */
  onBytes?: (bytesRead: number) => void
  /**
   * Check every row exactly as a read does (same errors, dimensions recorded in `knownDimensions`), but yield
   * nothing: the first pass of an ingest that must not half-write, without making an object per row.
   */
  validateOnly?: boolean
  /** With validateOnly, a CSV file's checked rows are kept here for the pass that writes them (see spill.ts). */
  spill?: CheckedRowSink
}

/** Where a validating CSV read puts the rows it checked (spill.ts's ObservationSpill). */
export interface CheckedRowSink {
  /** The file's entity and vector dimension, once its header is read. */
  start(entity: string, dim: number): void
  /** One checked row: its timestamp and the vector in values[from, from + dim). */
  push(ts: number, values: ArrayLike<number>, from: number): void
}

export const DEFAULT_BATCH_SIZE = 1000
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024
/** A timestamp may be at most this far after `now`. */
export const MAX_FUTURE_MS = 86_400_000

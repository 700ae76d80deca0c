import { closeSync, openSync, readSync, writeSync } from 'node:fs'
import { Row, vectorMaker } from './row.ts'
import type { CheckedRowSink, Observation } from './types.ts'

/** A file's checked rows as they were spilled: float64 rows of (ts, then the vector), `rows` of them. */
export interface SpilledRows {
  path: string
  entity: string
  dim: number
  rows: number
}

/** Bytes per write to the spill, about (at least one row). */
const CHUNK_BYTES = 512 * 1024

/**
 * The rows a validating CSV read has checked, kept on disk as float64 (ts, then the vector) so that the ingest's
 * write pass reads them back instead of parsing the CSV a second time: the same numbers, since they are the ones
 * the checks read. One chunk in memory, written when full. The file is written and read synchronously: it is in the
 * page cache, and the thread pool's queue is the Level writes' (an async read per batch waited behind them). A spill
 * that cannot be written is abandoned: `close` returns null, and the write pass reads the file as it would have.
 */
export class ObservationSpill implements CheckedRowSink {
  readonly #path: string
  #fd: number | null = null
  #entity = ''
  #dim = 0
  #chunk = new Float64Array(0)
  #at = 0
  #rows = 0
  #state: 'idle' | 'open' | 'abandoned' | 'closed' = 'idle'

  constructor(path: string) {
    this.#path = path
  }

  /** Starts the file's rows, once its header is known. */
  start(entity: string, dim: number): void {
    if (this.#state !== 'idle') return
    this.#entity = entity
    this.#dim = dim
    this.#chunk = new Float64Array(Math.max(1, Math.floor(CHUNK_BYTES / ((dim + 1) * 8))) * (dim + 1))
    this.#state = 'open'
  }

  /** One checked row: its timestamp and the vector in values[from, from + dim). */
  push(ts: number, values: ArrayLike<number>, from: number): void {
    if (this.#state !== 'open') return
    const chunk = this.#chunk
    let at = this.#at
    chunk[at++] = ts
    for (let d = 0; d < this.#dim; d++) chunk[at++] = values[from + d] as number
    this.#at = at
    this.#rows++
    if (at === chunk.length) this.#write()
  }

  /** Writes what is left and closes the file: the spilled rows, or null when there are none to read back. */
  close(): SpilledRows | null {
    if (this.#state === 'open' && this.#at > 0) this.#write()
    if (this.#fd !== null) closeSync(this.#fd)
    this.#fd = null
    this.#chunk = new Float64Array(0)
    if (this.#state !== 'open') return null
    this.#state = 'closed'
    return { path: this.#path, entity: this.#entity, dim: this.#dim, rows: this.#rows }
  }

  #write(): void {
    try {
      this.#fd ??= openSync(this.#path, 'w')
      const bytes = new Uint8Array(this.#chunk.buffer, 0, this.#at * 8)
      for (let done = 0; done < bytes.length; ) done += writeSync(this.#fd, bytes, done, bytes.length - done)
      this.#at = 0
    } catch {
      this.#state = 'abandoned'
    }
  }
}

/** The spilled rows as observations, in batches of `batchSize`; `onRows` is told the rows read so far. */
export async function* readSpilled(
  spilled: SpilledRows,
  batchSize: number,
  onRows?: (rows: number) => void,
): AsyncGenerator<Observation[]> {
  const { entity, dim, rows } = spilled
  const width = dim + 1
  const makeVector = vectorMaker(dim)
  const bytes = new Uint8Array(batchSize * width * 8)
  const values = new Float64Array(bytes.buffer)
  const fd = rows === 0 ? null : openSync(spilled.path, 'r')
  // Batches as the CSV reader makes them: copies of a packed array of batchSize slots, filled in.
  const template = Array.from({ length: batchSize }) as Observation[]
  try {
    for (let done = 0; done < rows; ) {
      const count = Math.min(batchSize, rows - done)
      const want = count * width * 8
      for (let got = 0; got < want; ) {
        const read = readSync(fd as number, bytes, got, want - got, done * width * 8 + got)
        if (read === 0) throw new Error(`${spilled.path}: the spill ends after ${done} of ${rows} rows`)
        got += read
      }
      const batch = template.slice(0, count)
      for (let i = 0; i < count; i++) batch[i] = new Row(entity, values[i * width] as number, makeVector(values, i * width + 1))
      done += count
      onRows?.(done)
      yield batch
    }
  } finally {
    if (fd !== null) closeSync(fd)
  }
}

import { type InputLocation, inputError, quote } from './errors.ts'
import type { TimestampParser } from './timestamp.ts'
import { type CheckedRowSink, MAX_FUTURE_MS } from './types.ts'

/** The resolved settings of one read, shared by the CSV and JSONL readers. */
export interface ReadContext {
  /** The path as given, for messages. */
  file: string
  /** --entity, or for CSV the file name without extension. */
  entity: string | undefined
  now: number
  batchSize: number
  maxLineBytes: number
  dims: Map<string, number>
  /** Told the bytes of the file read so far, as chunks arrive (for progress bars). */
  onBytes?: (bytesRead: number) => void
  /** Rows are checked, never yielded (ObservationSource.validateOnly). */
  validateOnly?: boolean
  /** Where a validating CSV read keeps the rows it checked (ObservationSource.spill). */
  spill?: CheckedRowSink
  /** The parser for string timestamps, chosen from the first one seen (one format per input). */
  parseTsString?: TimestampParser
}

/** Reject timestamps before 1970 or more than a day after `now`. `raw` is the value as written, for the message. */
export function checkTimestampRange(ctx: ReadContext, ts: number, raw: string, where: InputLocation): void {
  if (ts < 0) {
    throw inputError(ctx.file, where, `timestamp ${quote(raw)} is before 1970-01-01T00:00:00Z`)
  }
  if (ts > ctx.now + MAX_FUTURE_MS) {
    throw inputError(
      ctx.file,
      where,
      `timestamp ${quote(raw)} (${new Date(ts).toISOString()}) is more than 1 day in the future (now is ${new Date(ctx.now).toISOString()})`,
    )
  }
}

export function unparseableTimestamp(ctx: ReadContext, raw: string, where: InputLocation): never {
  throw inputError(
    ctx.file,
    where,
    raw.trim() === ''
      ? 'empty timestamp'
      : `timestamp ${quote(raw)} cannot be read (expected ISO 8601 such as 2014-04-02T14:29:00Z or "2014-04-02 14:29:00", or epoch seconds/milliseconds)`,
  )
}

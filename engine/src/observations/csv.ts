import { createReadStream } from 'node:fs'
import { pipeline } from 'node:stream'
import { CsvError, type InfoRecord, type Options, parse } from 'csv-parse'
import type { ReadContext } from './context.ts'
import { checkTimestampRange, unparseableTimestamp } from './context.ts'
import { inputError, quote } from './errors.ts'
import { parseTimestamp, type TimestampParser, timestampParserFor } from './timestamp.ts'
import type { Observation } from './types.ts'

interface CsvHeader {
  names: string[]
  tsIndex: number
  /** Cell index of each vector dimension, in header order. */
  vectorIndex: number[]
  vectorNames: string[]
}

function readHeader(ctx: ReadContext, cells: string[], line: number, entity: string): CsvHeader {
  const names = cells.map((c) => c.trim())
  let tsIndex = -1
  const seen = new Set<string>()
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string
    if (name === '') {
      throw inputError(ctx.file, { line, column: `#${i + 1}` }, `header cell ${i + 1} is empty (every column needs a name)`)
    }
    if (seen.has(name)) throw inputError(ctx.file, { line, column: name }, `column "${name}" appears twice in the header`)
    seen.add(name)
    if (name.toLowerCase() === 'timestamp') tsIndex = i
  }
  if (tsIndex === -1) {
    throw inputError(
      ctx.file,
      { line, column: 'timestamp' },
      `the header has no "timestamp" column (found: ${names.map((n) => `"${n}"`).join(', ')})`,
    )
  }
  const vectorIndex: number[] = []
  const vectorNames: string[] = []
  for (let i = 0; i < names.length; i++) {
    if (i === tsIndex) continue
    vectorIndex.push(i)
    vectorNames.push(names[i] as string)
  }
  if (vectorIndex.length === 0) {
    throw inputError(
      ctx.file,
      { line, column: 'timestamp' },
      'the header has only a "timestamp" column; at least one numeric column (the vector) is needed',
    )
  }
  const known = ctx.dims.get(entity)
  if (known !== undefined && known !== vectorIndex.length) {
    throw inputError(
      ctx.file,
      { line },
      `entity "${entity}" has vector dimension ${known} from earlier input, but this header has ${vectorIndex.length} vector columns`,
    )
  }
  ctx.dims.set(entity, vectorIndex.length)
  return { names, tsIndex, vectorIndex, vectorNames }
}

/** x, b or o (either case): the second character of 0x1f, 0b101, 0o17, which Number() accepts and we do not. */
function isRadixLetter(c: number): boolean {
  const l = c | 32
  return l === 120 || l === 98 || l === 111
}

function badNumber(ctx: ReadContext, cell: string, line: number, column: string): never {
  const t = cell.trim()
  if (t === '') throw inputError(ctx.file, { line, column }, 'empty cell, expected a number')
  const v = Number(t)
  if (t === 'NaN' || v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) {
    throw inputError(ctx.file, { line, column }, `${quote(cell)} is not a finite number (NaN and Infinity are not allowed)`)
  }
  throw inputError(ctx.file, { line, column }, `${quote(cell)} is not a number`)
}

function wrongCellCount(ctx: ReadContext, header: CsvHeader, cells: string[], line: number): never {
  const expected = header.names.length
  if (cells.length < expected) {
    const column = header.names[cells.length] as string
    throw inputError(
      ctx.file,
      { line, column },
      `missing cell: ${cells.length} cells but the header has ${expected} columns (${header.names.join(',')})`,
    )
  }
  throw inputError(
    ctx.file,
    { line, column: `#${expected + 1}` },
    `too many cells: ${cells.length} cells but the header has ${expected} columns (extra cell ${quote(cells[expected] as string)})`,
  )
}

/** Map a csv-parse error (record too long, unclosed quote…) to the project's error. */
function csvParseError(ctx: ReadContext, err: CsvError): Error {
  const line = typeof err.lines === 'number' ? err.lines : undefined
  if (err.code === 'CSV_MAX_RECORD_SIZE') {
    return inputError(
      ctx.file,
      { line },
      `line is longer than ${ctx.maxLineBytes} bytes (the maximum line length); is this really a CSV of observations?`,
      err,
    )
  }
  return inputError(ctx.file, { line }, `malformed CSV (${err.message})`, err)
}

/**
 * Stream a CSV file: header row with `timestamp` and one or more numeric columns (the vector, in header order).
 * Rows are converted inside csv-parse's `on_record` hook, which also groups them into batches, so the stream
 * carries one object per batch; no per-row schema validation, one cached timestamp layout.
 */
export async function* readCsv(ctx: ReadContext, entity: string): AsyncGenerator<Observation[]> {
  let header: CsvHeader | undefined
  let parseTs: TimestampParser = parseTimestamp
  let firstRow = true
  let rows = 0
  let batch: Observation[] = []
  const batchSize = ctx.batchSize

  const onRecord = (cells: string[], info: InfoRecord): Observation[] | null => {
    const line = info.lines
    // A line of only spaces (or a stray \r in mixed line endings) is a blank line, skipped like an empty one.
    if (cells.length === 1 && (cells[0] as string).trim() === '') return null
    if (header === undefined) {
      header = readHeader(ctx, cells, line, entity)
      return null
    }
    const h = header
    if (cells.length !== h.names.length) wrongCellCount(ctx, h, cells, line)
    const rawTs = cells[h.tsIndex] as string
    if (firstRow) {
      parseTs = timestampParserFor(rawTs)
      firstRow = false
    }
    const ts = parseTs(rawTs)
    if (ts === undefined) unparseableTimestamp(ctx, rawTs, { line, column: h.names[h.tsIndex] })
    checkTimestampRange(ctx, ts, rawTs, { line, column: h.names[h.tsIndex] })
    const idx = h.vectorIndex
    const dim = idx.length
    const vector: number[] = [] // pushed, so V8 keeps it a packed array of doubles
    for (let j = 0; j < dim; j++) {
      const cell = cells[idx[j] as number] as string
      const v = Number(cell)
      // v - v is 0 only for finite numbers; Number('') and Number('  ') are 0; Number('0x1f') is 31.
      if (v - v !== 0 || (v === 0 && cell.trim() === '') || (cell.charCodeAt(0) === 48 && isRadixLetter(cell.charCodeAt(1)))) {
        badNumber(ctx, cell, line, h.vectorNames[j] as string)
      }
      vector.push(v)
    }
    rows++
    batch.push({ entity, ts, vector })
    if (batch.length >= batchSize) {
      const full = batch
      batch = []
      return full
    }
    return null
  }

  const parser = parse({
    bom: true,
    skip_empty_lines: true,
    relax_column_count: true, // counted here, for a message naming the missing or extra column
    max_record_size: ctx.maxLineBytes,
    // on_record returns a whole batch (or null) instead of a row; csv-parse's types only know row → row.
    on_record: onRecord as unknown as Options['on_record'],
  })
  const input = createReadStream(ctx.file, { highWaterMark: 256 * 1024 })
  if (ctx.onBytes !== undefined) {
    const report = ctx.onBytes
    input.on('data', () => report(input.bytesRead))
  }
  // Destroys the file stream when the parser fails or the consumer stops early; errors surface through `parser`.
  pipeline(input, parser, () => {})
  try {
    for await (const full of parser as AsyncIterable<Observation[]>) yield full
  } catch (err) {
    if (err instanceof CsvError) throw csvParseError(ctx, err)
    throw err
  }
  if (header === undefined) throw inputError(ctx.file, {}, 'the file is empty (expected a header row with "timestamp" and numeric columns)')
  if (batch.length > 0) yield batch
  if (rows === 0) throw inputError(ctx.file, { line: 2 }, 'the file has a header but no data rows')
}

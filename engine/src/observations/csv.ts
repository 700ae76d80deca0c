import { pipeline, Readable } from 'node:stream'
import { CsvError, type InfoRecord, type Options, parse } from 'csv-parse'
import type { ReadContext } from './context.ts'
import { checkTimestampRange, unparseableTimestamp } from './context.ts'
import { inputError, quote } from './errors.ts'
import { FileChunks } from './file-chunks.ts'
import { decimalCell, plainCellEnd } from './numbers.ts'
import { Row, vectorMaker } from './row.ts'
import {
  type BytesTimestampParser,
  bytesTimestampParserFor,
  parseTimestamp,
  type TimestampParser,
  timestampParserFor,
} from './timestamp.ts'
import { MAX_FUTURE_MS, type Observation } from './types.ts'

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
 * Turns records (cells and line number) into observations, grouped into batches: `record` takes the cells as
 * strings (csv-parse's records, and any line the fast path passes on); `line` takes the bytes of a plain line
 * (no quote, no stray carriage return) and reads its cells in place, deferring to `record` for anything but
 * the common case — a first data row, a wrong cell count, a cell that is not a plain decimal or a timestamp not
 * in the first row's layout, any error — so every value and every message is the one `record` gives.
 */
class CsvRows {
  readonly #ctx: ReadContext
  readonly #entity: string
  header: CsvHeader | undefined
  #parseTs: TimestampParser = parseTimestamp
  #bytesTs: BytesTimestampParser | null = null
  #firstRow = true
  #makeVector: ((values: ArrayLike<number>, from: number) => number[]) | null = null
  #cells = new Float64Array(0)
  readonly #validateOnly: boolean
  rows = 0
  /** The batch being filled (a copy of #template: made at its full size, it never grows) and its rows so far. */
  #batch: Observation[]
  #count = 0

  constructor(ctx: ReadContext, entity: string) {
    this.#ctx = ctx
    this.#entity = entity
    this.#validateOnly = ctx.validateOnly === true
    this.#batch = this.#newBatch()
  }

  /** batchSize undefineds in a packed array: copied for each batch, which then never grows nor has holes. */
  #template: Observation[] | null = null

  #newBatch(): Observation[] {
    if (this.#validateOnly) return []
    this.#template ??= Array.from({ length: this.#ctx.batchSize }) as Observation[]
    return this.#template.slice()
  }

  /** The rows read since the last full batch (null when none). */
  rest(): Observation[] | null {
    if (this.#count === 0) return null
    const rest = this.#batch
    rest.length = this.#count
    this.#count = 0
    return rest
  }

  /** One record as strings: the header, a blank line (null) or a row; a full batch when this row fills it. */
  record(cells: string[], line: number): Observation[] | null {
    const ctx = this.#ctx
    // A line of only spaces (or a stray \r in mixed line endings) is a blank line, skipped like an empty one.
    if (cells.length === 1 && (cells[0] as string).trim() === '') return null
    if (this.header === undefined) {
      this.header = readHeader(ctx, cells, line, this.#entity)
      ctx.spill?.start(this.#entity, this.header.vectorIndex.length)
      return null
    }
    const h = this.header
    if (cells.length !== h.names.length) wrongCellCount(ctx, h, cells, line)
    const rawTs = cells[h.tsIndex] as string
    if (this.#firstRow) {
      this.#parseTs = timestampParserFor(rawTs)
      this.#bytesTs = bytesTimestampParserFor(rawTs)
      this.#firstRow = false
    }
    const ts = this.#parseTs(rawTs)
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
    return this.#push(new Row(this.#entity, ts, vector))
  }

  /**
   * One line as bytes [start, end), without its line ending, known to hold no quote and no carriage return.
   * Cells are read in place when they are plain decimals and the timestamp is in the first row's layout.
   */
  line(bytes: Buffer, start: number, end: number, line: number): Observation[] | null {
    const h = this.header
    const bytesTs = this.#bytesTs
    if (h === undefined || bytesTs === null) return this.record(cellsOf(bytes, start, end), line)
    const n = h.names.length
    const tsIndex = h.tsIndex
    const dim = h.vectorIndex.length
    // Cells are read into a scratch row: [ts, values…] (a double returned by a call would be a heap object).
    let cells = this.#cells
    if (cells.length !== dim + 1) {
      cells = new Float64Array(dim + 1)
      this.#cells = cells
    }
    let j = 1
    let at = start
    for (let c = 0; c < n; c++) {
      let stop: number
      if (c === tsIndex) {
        stop = at
        while (stop < end && bytes[stop] !== 44) stop++
        if (!bytesTs(bytes, at, stop, cells, 0)) return this.record(cellsOf(bytes, start, end), line)
        const t = cells[0] as number
        if (t < 0 || t > this.#ctx.now + MAX_FUTURE_MS) return this.record(cellsOf(bytes, start, end), line)
      } else {
        stop = decimalCell(bytes, at, end, cells, j)
        if (stop < 0) {
          // A plain decimal too long to read exactly by hand (74.93588199999998): Number() of its text, as the
          // string path reads it (and leaves anything not finite to that path, for its message).
          stop = plainCellEnd(bytes, at, end)
          const v = stop < 0 ? Number.NaN : Number(bytes.toString('latin1', at, stop))
          if (!Number.isFinite(v)) return this.record(cellsOf(bytes, start, end), line)
          cells[j] = v
        }
        j++
      }
      if (stop === end && c < n - 1) return this.record(cellsOf(bytes, start, end), line) // missing cells
      at = stop + 1
    }
    if (at <= end) return this.record(cellsOf(bytes, start, end), line) // more cells than the header
    if (this.#validateOnly) {
      this.rows++
      this.#ctx.spill?.push(cells[0] as number, cells, 1)
      return null
    }
    // The header's dimension: one maker for the file.
    this.#makeVector ??= vectorMaker(dim)
    return this.#push(new Row(this.#entity, cells[0] as number, this.#makeVector(cells, 1)))
  }

  #push(row: Observation): Observation[] | null {
    this.rows++
    if (this.#validateOnly) {
      this.#ctx.spill?.push(row.ts, row.vector, 0)
      return null
    }
    this.#batch[this.#count++] = row
    if (this.#count < this.#ctx.batchSize) return null
    const full = this.#batch
    this.#batch = this.#newBatch()
    this.#count = 0
    return full
  }
}

/** The cells of a plain line, as csv-parse would give them (each decoded as UTF-8 on its own). */
function cellsOf(bytes: Buffer, start: number, end: number): string[] {
  return bytes.toString('utf8', start, end).split(',')
}

/** Bytes per read (into one of the reader's two buffers, kept for the whole file: see FileChunks). */
const CHUNK_BYTES = 128 * 1024
const LF = 10
const EMPTY_BUFFER = Buffer.alloc(0)
const CR = 13
const QUOTE = 34

/** Line endings of the fast path, as csv-parse discovers them from the first line: \n, or \r\n. */
type Endings = 'unknown' | 'lf' | 'crlf'

/** csv-parse's options for this reader, taking over at the file's start or at a later line. */
function csvParseOptions(ctx: ReadContext, rows: CsvRows, fromStart: boolean, endings: Endings): Options {
  const onRecord = (cells: string[], info: InfoRecord): Observation[] | null => rows.record(cells, info.lines)
  return {
    // At a later line the byte order mark is behind us and the line endings are known (as csv-parse found them).
    bom: fromStart,
    ...(fromStart ? {} : { record_delimiter: endings === 'crlf' ? '\r\n' : '\n' }),
    skip_empty_lines: true,
    relax_column_count: true, // counted here, for a message naming the missing or extra column
    max_record_size: ctx.maxLineBytes,
    // on_record returns a whole batch (or null) instead of a row; csv-parse's types only know row → row.
    on_record: onRecord as unknown as Options['on_record'],
  }
}

/**
 * Stream a CSV file: header row with `timestamp` and one or more numeric columns (the vector, in header order).
 *
 * Plain lines — no quotes, \n or \r\n line endings throughout, shorter than the line limit — are split on
 * commas and their cells read in place (CsvRows.line). At the first line that is not plain, the rest of the
 * input (from that line on, or the whole file when it is the first) goes through csv-parse, whose records are
 * checked by the same code: the values, the line numbers and the messages are csv-parse's either way. Rows are
 * grouped into batches of `batchSize`.
 */
export async function* readCsv(
  ctx: ReadContext,
  entity: string,
  /** For tests: `fast: false` reads the whole file with csv-parse; `chunkBytes`, the size of the reads. */
  options: { fast?: boolean; chunkBytes?: number } = {},
): AsyncGenerator<Observation[]> {
  const rows = new CsvRows(ctx, entity)
  const max = ctx.maxLineBytes
  const input = await FileChunks.open(ctx.file, options.chunkBytes ?? CHUNK_BYTES)
  const report = ctx.onBytes
  try {
    let endings = 'unknown' as Endings // (set inside scan: declared wide so that TypeScript does not narrow it here)
    /** Lines done so far (the next line is lines + 1). */
    let lines = 0
    /** Bytes of the file not consumed yet, from the start of a line: what csv-parse would take over. */
    let rest: Buffer = EMPTY_BUFFER
    let handOver = options.fast === false
    let eof = false
    /**
     * Reads the complete lines of buf (which starts at the start of a line), yielding the batches they fill.
     * Returns where the unfinished line starts (buf.length when there is none), with `handOver` set when the
     * line there is one for csv-parse.
     */
    const scan = function* (buf: Buffer): Generator<Observation[], number> {
      let pos = 0
      // The byte order marks csv-parse knows: UTF-8 is skipped; UTF-16 is left to it.
      if (lines === 0 && buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) {
        handOver = true
        return 0
      }
      if (lines === 0 && buf.length < 3 && !eof) return 0
      const bom = lines === 0 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0
      let quoteAt = buf.indexOf(QUOTE)
      if (quoteAt === -1) quoteAt = buf.length
      let crAt = endings === 'lf' ? buf.indexOf(CR) : -1
      if (crAt === -1) crAt = buf.length
      for (;;) {
        const start = pos + (lines === 0 ? bom : 0)
        let nl = buf.indexOf(LF, pos)
        if (nl === -1) {
          if (!eof) {
            // An unfinished line: over the limit already, csv-parse says so (it counts as it does).
            if (buf.length - pos > max) handOver = true
            return pos
          }
          if (pos === buf.length) return pos
          nl = buf.length // the last line, without a line ending
        }
        let end = nl
        if (endings === 'unknown') {
          // csv-parse takes the first of \r\n, \n or \r it meets as the line ending of the whole file.
          const cr = buf.indexOf(CR, start)
          if (cr !== -1 && cr < nl - 1)
            handOver = true // a lone \r first
          else if (cr !== -1 && cr === nl - 1) {
            if (nl < buf.length) endings = 'crlf'
            else handOver = true // \r at the very end of the input
          } else if (nl < buf.length) endings = 'lf'
          if (endings === 'lf') {
            crAt = buf.indexOf(CR, pos)
            if (crAt === -1) crAt = buf.length
          }
        }
        if (endings === 'crlf') {
          // Exactly one \r per line, right before the \n: anything else csv-parse reads differently.
          if (nl === buf.length || buf.indexOf(CR, start) !== nl - 1) handOver = true
          else end = nl - 1
        } else if (endings === 'lf' && crAt < nl) handOver = true
        if (quoteAt < nl || end - start > max) handOver = true
        if (handOver) return pos
        pos = nl + 1
        lines++
        if (end > start) {
          const full = rows.line(buf, start, end, lines)
          if (full !== null) yield full
        }
        if (pos >= buf.length) return buf.length
      }
    }
    while (!handOver && !eof) {
      const chunk = await input.next()
      let pieces: Buffer[]
      if (chunk === null) {
        eof = true
        pieces = [rest]
      } else {
        report?.(input.bytesRead)
        const nl = lines === 0 || rest.length === 0 ? -1 : chunk.indexOf(LF)
        if (rest.length === 0) pieces = [chunk]
        else if (nl === -1) pieces = [Buffer.concat([rest, chunk])]
        // The line begun in the last chunk, completed: the rest of this one is not copied.
        else pieces = [Buffer.concat([rest, chunk.subarray(0, nl + 1)]), chunk.subarray(nl + 1)]
      }
      rest = EMPTY_BUFFER
      for (const [i, piece] of pieces.entries()) {
        const pos = yield* scan(piece)
        if (pos < piece.length) {
          // An unfinished line (only ever in the last piece), or csv-parse's from here on: all of it.
          rest = i === pieces.length - 1 ? piece.subarray(pos) : Buffer.concat([piece.subarray(pos), ...pieces.slice(i + 1)])
          break
        }
      }
    }
    if (handOver) {
      const fromStart = lines === 0
      // Copies: csv-parse may hold on to what it is given past the reads that reuse the reader's buffers.
      const remaining = Buffer.from(rest)
      // Taking over at a later line, csv-parse is first given as many empty lines as are behind us (it skips
      // them): its line numbers, in its messages too, are then the file's.
      const behind = endings === 'crlf' ? Buffer.from('\r\n'.repeat(lines)) : Buffer.alloc(lines, LF)
      const source = Readable.from(
        (async function* () {
          if (behind.length > 0) yield behind
          if (remaining.length > 0) yield remaining
          for (;;) {
            const chunk = await input.next()
            if (chunk === null) return
            report?.(input.bytesRead)
            yield Buffer.from(chunk)
          }
        })(),
        { objectMode: false },
      )
      const parser = parse(csvParseOptions(ctx, rows, fromStart, endings))
      // Destroys the source when the parser fails or the consumer stops early; errors surface through `parser`.
      pipeline(source, parser, () => {})
      try {
        for await (const full of parser as AsyncIterable<Observation[]>) yield full
      } catch (err) {
        if (err instanceof CsvError) throw csvParseError(ctx, err)
        throw err
      }
    }
  } finally {
    await input.close()
  }
  if (rows.header === undefined) {
    throw inputError(ctx.file, {}, 'the file is empty (expected a header row with "timestamp" and numeric columns)')
  }
  const rest = rows.rest()
  if (rest !== null) yield rest
  if (rows.rows === 0) throw inputError(ctx.file, { line: 2 }, 'the file has a header but no data rows')
}

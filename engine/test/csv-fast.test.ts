/**
 * The CSV fast path (plain lines split on commas, cells read from their bytes) against csv-parse reading the same
 * file: for random files full of the cases that matter — quotes, \r\n and \r line endings and mixes of them,
 * byte order marks, blank lines, spaces, exponents, hexadecimal, NaN, empty and missing cells, long lines, bad
 * and out-of-range timestamps, multi-byte characters — and reads of every size (lines cut across chunks), the
 * same observations in the same batches, or the same error (code, message, line and column).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { VsdbError } from '@vsdb/log'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ReadContext } from '../src/observations/context.ts'
import { readCsv } from '../src/observations/csv.ts'
import { decimalCell, plainDecimal } from '../src/observations/numbers.ts'
import { ObservationSpill, readSpilled } from '../src/observations/spill.ts'
import { bytesTimestampParserFor, timestampParserFor } from '../src/observations/timestamp.ts'
import type { Observation } from '../src/observations/types.ts'
import { seeded } from './seeded.ts'

const NOW = Date.UTC(2025, 0, 1)

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vsdb-csv-fast-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Everything a read gives, numbers spelt so that -0 and 0 differ. */
async function outcome(
  path: string,
  maxLineBytes: number,
  options: { fast?: boolean; chunkBytes?: number; validateOnly?: boolean; spill?: ObservationSpill },
): Promise<unknown> {
  const ctx: ReadContext = {
    file: path,
    entity: undefined,
    now: NOW,
    batchSize: 3,
    maxLineBytes,
    dims: new Map(),
    validateOnly: options.validateOnly,
    spill: options.spill,
  }
  const batches: string[][] = []
  const spell = (batch: Observation[]) =>
    batch.map((o) => `${o.entity} ${o.ts} ${o.vector.map((v) => (Object.is(v, -0) ? '-0' : String(v))).join(' ')}`)
  try {
    for await (const batch of readCsv(ctx, 'e', options)) batches.push(spell(batch))
    // A validating read with a spill: the rows read back from it, as the ingest's write pass reads them.
    const spilled = options.spill?.close()
    if (spilled) for await (const batch of readSpilled(spilled, ctx.batchSize)) batches.push(spell(batch))
  } catch (err) {
    if (!(err instanceof VsdbError)) throw err
    // Batches before an error are not compared: csv-parse drops those still buffered in its stream when it fails.
    return { error: { code: err.code, message: err.message, details: err.details } }
  }
  return { batches, dims: [...ctx.dims] }
}

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T
}

const VALUES = [
  '1',
  '0',
  '-0',
  '-0.000',
  '12.5',
  '-3.25',
  '+7',
  '.5',
  '5.',
  '0.1',
  '123456789012345',
  '1234567890123456',
  '12345678901234567890',
  '0.0000000000000000000001',
  '0.00000000000000000000001',
  '3.14159265358979',
  '1e3',
  '-2.5E-2',
  ' 6 ',
  '6 ',
  '',
  ' ',
  'abc',
  'NaN',
  'Infinity',
  '-Infinity',
  '1e999',
  '0x1f',
  '0b11',
  '00012',
  '.',
  '-',
  '1.2.3',
  '"4"',
  '"4,5"',
  '4"',
  '€',
  '1\u00a0',
] as const

const TIMESTAMPS = [
  (i: number) => new Date(Date.UTC(2014, 3, 2, 14, i % 60)).toISOString(),
  (i: number) => new Date(Date.UTC(2014, 3, 2, 14, i % 60)).toISOString().replace('T', ' ').slice(0, 19),
  (i: number) => String(1396448940 + i * 60),
  (i: number) => String(1396448940000 + i * 60000),
  (i: number) => `${1396448940 + i}.5`,
  (i: number) => `2014-04-02T14:${String(i % 60).padStart(2, '0')}:00+02:00`,
  (i: number) => `2014-04-02T14:${String(i % 60).padStart(2, '0')}:00.12Z`,
  () => '2014-04-31 14:30:00',
  () => '1969-12-31 23:59:59',
  () => '2030-01-01T00:00:00Z',
  () => '-1',
  () => 'yesterday',
  () => '',
  () => ' 1396448940',
  () => '"2014-04-02T14:29:00Z"',
  () => '2014-04-02',
] as const

/** A random CSV file: mostly good rows in one layout, with a few of everything else. */
function randomCsv(rand: () => number): Buffer {
  const dim = 1 + Math.floor(rand() * 3)
  const tsColumn = Math.floor(rand() * (dim + 1))
  const names = Array.from({ length: dim }, (_, d) => `v${d}`)
  names.splice(tsColumn, 0, rand() < 0.05 ? '"timestamp"' : 'timestamp')
  const endingMix = rand()
  const baseEnding = pick(rand, ['\n', '\n', '\r\n', '\r'] as const)
  const ending = () => (rand() < 0.03 * endingMix ? pick(rand, ['\n', '\r\n', '\r'] as const) : baseEnding)
  const quirky = rand() < 0.5 ? 0 : rand() * 0.15
  const tsMain = pick(rand, TIMESTAMPS.slice(0, 7))
  const lines: string[] = []
  if (rand() < 0.1) lines.push('')
  lines.push(names.join(','))
  const n = Math.floor(rand() * 12)
  for (let i = 0; i < n; i++) {
    if (rand() < 0.05) {
      lines.push(pick(rand, ['', '   ', ',', ' , ']))
      continue
    }
    const cells = Array.from({ length: dim }, () =>
      rand() < quirky ? pick(rand, VALUES) : (Math.round((rand() - 0.5) * 2e5) / 10 ** Math.floor(rand() * 5)).toString(),
    )
    cells.splice(tsColumn, 0, rand() < quirky ? pick(rand, TIMESTAMPS)(i) : tsMain(i))
    if (rand() < quirky / 4) cells.pop()
    if (rand() < quirky / 4) cells.push('9')
    lines.push(cells.join(','))
  }
  let text = lines.map((l) => l + ending()).join('')
  if (rand() < 0.3) text = text.replace(/(\r\n|\n|\r)$/, '')
  const bom = rand() < 0.1 ? Buffer.from([0xef, 0xbb, 0xbf]) : rand() < 0.02 ? Buffer.from([0xff, 0xfe]) : Buffer.alloc(0)
  return Buffer.concat([bom, Buffer.from(text, 'utf8')])
}

describe('CSV fast path', () => {
  it('a spill that cannot be written is given up: no rows to read back, and the write pass reads the file', async () => {
    const path = join(dir, 'small.csv')
    await writeFile(path, 'timestamp,a\n2024-01-01T00:00:00Z,1\n')
    const spill = new ObservationSpill(join(dir, 'no-such-dir', 'x.f64'))
    const ctx: ReadContext = {
      file: path,
      entity: undefined,
      now: NOW,
      batchSize: 3,
      maxLineBytes: 1024,
      dims: new Map(),
      validateOnly: true,
      spill,
    }
    for await (const _ of readCsv(ctx, 'e')) expect.unreachable()
    expect(spill.close()).toBeNull()
  })

  it('reads exactly what csv-parse reads, values, batches and errors alike', async () => {
    const rand = seeded(4)
    for (let k = 0; k < 800; k++) {
      const content = randomCsv(rand)
      const path = join(dir, `f${k}.csv`)
      await writeFile(path, content)
      const maxLineBytes = rand() < 0.15 ? 10 + Math.floor(rand() * 40) : 1024 * 1024
      const expected = await outcome(path, maxLineBytes, { fast: false })
      for (const chunkBytes of [1 + Math.floor(rand() * 7), 8 + Math.floor(rand() * 64), 64 * 1024]) {
        const got = await outcome(path, maxLineBytes, { chunkBytes })
        expect(got, `case ${k}, reads of ${chunkBytes} bytes: ${JSON.stringify(content.toString('latin1'))}`).toEqual(expected)
      }
      // A validating read: the same error or none, the same dimensions, and not one row.
      const checked = (await outcome(path, maxLineBytes, { validateOnly: true, chunkBytes: 16 })) as { batches?: unknown[] }
      const { batches: _, ...rest } = expected as { batches?: unknown[] }
      expect(checked, `case ${k}, validating`).toEqual({ ...rest, ...('error' in rest ? {} : { batches: [] }) })
      // Validating into a spill: then exactly the rows and batches the read gives, from the spill.
      if (!('error' in rest)) {
        const spill = new ObservationSpill(join(dir, `f${k}.f64`))
        const fromSpill = await outcome(path, maxLineBytes, { validateOnly: true, chunkBytes: 16, spill })
        expect(fromSpill, `case ${k}, from the spill`).toEqual(expected)
      }
    }
  }, 120_000)

  it('reads plain decimals from bytes exactly as Number() reads the text', () => {
    const rand = seeded(9)
    const texts: string[] = ['0', '-0', '1', '9007199254740991', '0.1', '0.3', '123456789012345', '999999999999999.9', '.5', '5.']
    for (let i = 0; i < 20000; i++) {
      const int = String(Math.floor(rand() * 10 ** Math.floor(rand() * 16)))
      const frac = String(Math.floor(rand() * 10 ** Math.floor(rand() * 12))).padStart(Math.floor(rand() * 14), '0')
      texts.push(`${pick(rand, ['', '-', '+'])}${int}${rand() < 0.8 ? `.${frac}` : ''}`)
    }
    const out = new Float64Array(1)
    for (const text of texts) {
      const got = plainDecimal(Buffer.from(text), 0, text.length)
      if (!Number.isNaN(got)) expect(Object.is(got, Number(text)), text).toBe(true)
      // The same read by decimalCell, up to the comma that ends a cell.
      const cell = Buffer.from(`${text},9`)
      const stop = decimalCell(cell, 0, cell.length, out, 0)
      if (Number.isNaN(got)) expect(stop, text).toBe(-1)
      else {
        expect(stop, text).toBe(text.length)
        expect(Object.is(out[0], got), text).toBe(true)
      }
    }
    for (const text of ['', '+', '-', '.', '1e5', ' 1', '1 ', '0x1f', '1.2.3', 'NaN', '1234567890123456']) {
      expect(plainDecimal(Buffer.from(text), 0, text.length), text).toBeNaN()
    }
  })

  it('reads timestamps from bytes as the string parser of the same sample does, or leaves them to it', () => {
    const samples = [
      '2014-04-02T14:29:00Z',
      '2014-04-02 14:29:00',
      '2014-04-02T14:29:00.123Z',
      '2014-04-02T14:29:00.1+01:00',
      '2014-04-02T14:29-05:30',
      '1396448940',
      '1396448940000',
      '1396448940.25',
      '2014-04-02',
    ]
    const rand = seeded(5)
    for (const sample of samples) {
      const fromString = timestampParserFor(sample)
      const fromBytes = bytesTimestampParserFor(sample)
      for (let i = 0; i < 3000; i++) {
        // The sample with a few characters changed: other layouts, invalid dates, other digits.
        const chars = [...sample]
        const changes = Math.floor(rand() * 3)
        for (let c = 0; c < changes; c++) chars[Math.floor(rand() * chars.length)] = pick(rand, [...'0123456789 -:T.Z+x9'])
        const text = chars.join('')
        const out = new Float64Array(2)
        if (fromBytes(Buffer.from(text), 0, text.length, out, 1)) expect(out[1], text).toBe(fromString(text))
      }
      const out = new Float64Array(1)
      if (sample.length > 10) {
        expect(fromBytes(Buffer.from(sample), 0, sample.length, out, 0)).toBe(true)
        expect(out[0]).toBe(fromString(sample))
      }
    }
  })
})

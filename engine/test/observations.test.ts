import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { VsdbError } from '@vsdb/log'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { detectFormat, type Observation, type ObservationSource, parseTimestamp, readObservations } from '../src/observations/index.ts'
import { timestampParserFor } from '../src/observations/timestamp.ts'

// The shared data set sits beside the repository (../shared), in CI as on a developer's machine.
const NAB = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'data', 'nab', 'realKnownCause')
const NOW = Date.UTC(2025, 0, 1)
const DAY = 86_400_000

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vsdb-observations-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function file(name: string, content: string): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, content)
  return path
}

async function readAll(source: ObservationSource): Promise<{ batches: Observation[][]; rows: Observation[] }> {
  const batches: Observation[][] = []
  for await (const batch of readObservations({ now: NOW, ...source })) batches.push(batch)
  return { batches, rows: batches.flat() }
}

async function readError(source: ObservationSource): Promise<VsdbError> {
  try {
    await readAll(source)
  } catch (err) {
    expect(err).toBeInstanceOf(VsdbError)
    return err as VsdbError
  }
  throw new Error(`expected ${source.path} to fail`)
}

/** Expect INVALID_INPUT at this line and column (CSV) or field (JSONL); returns the message. */
async function expectInvalid(source: ObservationSource, where: { line?: number; column?: string; field?: string }): Promise<string> {
  const err = await readError(source)
  expect(err.code).toBe('INVALID_INPUT')
  expect(err.details.line).toBe(where.line)
  if (where.column !== undefined) expect(err.details.column).toBe(where.column)
  if (where.field !== undefined) expect(err.details.field).toBe(where.field)
  expect(err.message.startsWith(source.path)).toBe(true)
  if (where.line !== undefined) expect(err.message).toContain(` line ${where.line}`)
  if (where.column !== undefined) expect(err.message).toContain(`column "${where.column}"`)
  else if (where.field !== undefined) expect(err.message).toContain(`field "${where.field}"`)
  return err.message
}

describe('timestamps', () => {
  it('reads ISO 8601, NAB style and epoch seconds/milliseconds, zone-less as UTC', () => {
    expect(parseTimestamp('2014-04-02 14:29:00')).toBe(Date.UTC(2014, 3, 2, 14, 29))
    expect(parseTimestamp('2014-04-02T14:29:00')).toBe(Date.UTC(2014, 3, 2, 14, 29))
    expect(parseTimestamp('2014-04-02T14:29:00Z')).toBe(Date.UTC(2014, 3, 2, 14, 29))
    expect(parseTimestamp('2014-04-02T14:29:00.123456Z')).toBe(Date.UTC(2014, 3, 2, 14, 29, 0, 123))
    expect(parseTimestamp('2014-04-02T14:29:00.5')).toBe(Date.UTC(2014, 3, 2, 14, 29, 0, 500))
    expect(parseTimestamp('2014-04-02T16:29:00+02:00')).toBe(Date.UTC(2014, 3, 2, 14, 29))
    expect(parseTimestamp('2014-04-02T09:29-0500')).toBe(Date.UTC(2014, 3, 2, 14, 29))
    expect(parseTimestamp('2014-04-02')).toBe(Date.UTC(2014, 3, 2))
    expect(parseTimestamp(' 2014-04-02 14:29:00 ')).toBe(Date.UTC(2014, 3, 2, 14, 29))
    expect(parseTimestamp('2016-02-29T00:00:00Z')).toBe(Date.UTC(2016, 1, 29))
    // epoch: below 1e11 is seconds, from 1e11 on milliseconds
    expect(parseTimestamp('1396448940')).toBe(1396448940000)
    expect(parseTimestamp('1396448940.25')).toBe(1396448940250)
    expect(parseTimestamp('1396448940000')).toBe(1396448940000)
    expect(parseTimestamp('99999999999')).toBe(99999999999000)
    expect(parseTimestamp('100000000000')).toBe(100000000000)
  })

  it('rejects what it cannot read', () => {
    for (const bad of [
      '',
      'abc',
      '2014-13-01',
      '2015-02-29',
      '2014-04-31',
      '2014-04-02 24:00:00',
      '2014-04-02 14:60',
      '0x10',
      '1e9',
      'NaN',
      '02/04/2014',
    ]) {
      expect(parseTimestamp(bad), bad).toBeUndefined()
    }
  })

  it('a parser cached from a first sample agrees with the general parser on every layout', () => {
    const values = [
      '2014-04-02 14:29:00',
      '2014-04-02T14:29:00',
      '2014-04-02 14:29',
      '2014-04-02T14:29:00.1Z',
      '2014-04-02T14:29:00.123Z',
      '2014-04-02T14:29:00.123456789+05:30',
      '2014-04-02T14:29:00-08:00',
      '2016-02-29 23:59:59',
      '2015-02-29 00:00:00',
      '2014-4-02 14:29:00',
      '2014-04-02 14:29:0x',
      '2014-04-02x14:29:00',
      '1396448940',
      '1396448940123',
      '-5',
      'junk',
    ]
    for (const sample of values) {
      const cached = timestampParserFor(sample)
      for (const v of values) expect(cached(v), `${sample} then ${v}`).toBe(parseTimestamp(v))
    }
  })
})

describe('detectFormat', () => {
  it('goes by the extension', () => {
    expect(detectFormat('a/b/data.csv')).toBe('csv')
    expect(detectFormat('DATA.CSV')).toBe('csv')
    expect(detectFormat('x.jsonl')).toBe('jsonl')
    expect(detectFormat('x.ndjson')).toBe('jsonl')
  })

  it('names the file and the way out when it cannot tell', () => {
    try {
      detectFormat('notes.txt')
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(VsdbError)
      expect((err as VsdbError).code).toBe('INVALID_INPUT')
      expect((err as VsdbError).details.field).toBe('format')
      expect((err as VsdbError).message).toMatch(/notes\.txt.*--format csv\|jsonl/)
    }
  })
})

describe('CSV', () => {
  it('reads a real NAB file: one observation per data line, first and last timestamps', async () => {
    const path = join(NAB, 'nyc_taxi.csv')
    const text = await readFile(path, 'utf8')
    const lines = text.split('\n').filter((l) => l.trim() !== '')
    const { batches, rows } = await readAll({ path })
    expect(rows.length).toBe(lines.length - 1)
    expect(rows.length).toBe(10320)
    for (const b of batches.slice(0, -1)) expect(b.length).toBe(1000)
    expect(rows[0]).toEqual({ entity: 'nyc_taxi', ts: Date.UTC(2014, 6, 1, 0, 0), vector: [10844] })
    expect(rows.at(-1)).toEqual({ entity: 'nyc_taxi', ts: Date.UTC(2015, 0, 31, 23, 30), vector: [26288] })
    // half-hourly, in order
    expect(rows[1]?.ts).toBe(Date.UTC(2014, 6, 1, 0, 30))
    for (let i = 1; i < rows.length; i++) expect((rows[i] as Observation).ts).toBeGreaterThan((rows[i - 1] as Observation).ts)
  })

  it('reads every realKnownCause NAB file', async () => {
    for (const name of [
      'ambient_temperature_system_failure',
      'cpu_utilization_asg_misconfiguration',
      'ec2_request_latency_system_failure',
      'machine_temperature_system_failure',
      'rogue_agent_key_hold',
      'rogue_agent_key_updown',
    ]) {
      const path = join(NAB, `${name}.csv`)
      const lines = (await readFile(path, 'utf8')).split('\n').filter((l) => l.trim() !== '')
      const { rows } = await readAll({ path, batchSize: 5000 })
      expect(rows.length, name).toBe(lines.length - 1)
      expect(rows.every((r) => r.entity === name && r.vector.length === 1 && Number.isFinite(r.vector[0]))).toBe(true)
    }
  })

  it('takes --entity, a configurable batch size, and vector columns in header order wherever timestamp is', async () => {
    const path = await file(
      'multi.csv',
      '\uFEFFa,"timestamp",b,c\r\n1,2014-04-02T14:29:00Z,2,3\r\n\r\n4.5,2014-04-02T14:30:00Z,-5e-1, 6 \r\n7,1396449060,8,9\r\n10,1396449120000,11,0\r\n',
    )
    const { batches, rows } = await readAll({ path, entity: 'truck-7', batchSize: 3 })
    expect(batches.map((b) => b.length)).toEqual([3, 1])
    expect(rows).toEqual([
      { entity: 'truck-7', ts: Date.UTC(2014, 3, 2, 14, 29), vector: [1, 2, 3] },
      { entity: 'truck-7', ts: Date.UTC(2014, 3, 2, 14, 30), vector: [4.5, -0.5, 6] },
      { entity: 'truck-7', ts: Date.UTC(2014, 3, 2, 14, 31), vector: [7, 8, 9] },
      { entity: 'truck-7', ts: Date.UTC(2014, 3, 2, 14, 32), vector: [10, 11, 0] },
    ])
  })

  it('accepts format csv for any extension, and a timestamp exactly one day ahead', async () => {
    const path = await file('weird.data', `timestamp,v\n${NOW + DAY},1\n`)
    const { rows } = await readAll({ path, format: 'csv' })
    expect(rows).toEqual([{ entity: 'weird', ts: NOW + DAY, vector: [1] }])
  })

  it('missing timestamp column', async () => {
    const path = await file('nots.csv', 'time,value\n2014-04-02 14:29:00,1\n')
    const msg = await expectInvalid({ path }, { line: 1, column: 'timestamp' })
    expect(msg).toContain('no "timestamp" column')
  })

  it('header with no vector column', async () => {
    const path = await file('novec.csv', 'timestamp\n2014-04-02 14:29:00\n')
    const msg = await expectInvalid({ path }, { line: 1, column: 'timestamp' })
    expect(msg).toContain('at least one numeric column')
  })

  it('duplicate and empty header names', async () => {
    await expectInvalid({ path: await file('dup.csv', 'timestamp,v,v\n') }, { line: 1, column: 'v' })
    await expectInvalid({ path: await file('emptyname.csv', 'timestamp,,v\n') }, { line: 1, column: '#2' })
  })

  it('missing cells', async () => {
    const path = await file('short.csv', 'timestamp,a,b\n2014-04-02 14:29:00,1,2\n2014-04-02 14:30:00,1\n')
    const msg = await expectInvalid({ path }, { line: 3, column: 'b' })
    expect(msg).toContain('missing cell')
  })

  it('too many cells', async () => {
    const path = await file('long.csv', 'timestamp,a\n2014-04-02 14:29:00,1\n2014-04-02 14:30:00,1\n2014-04-02 14:31:00,1,9\n')
    const msg = await expectInvalid({ path }, { line: 4, column: '#3' })
    expect(msg).toContain('too many cells')
  })

  it('empty cell', async () => {
    const path = await file('emptycell.csv', 'timestamp,value\n2014-04-02 14:29:00,\n')
    const msg = await expectInvalid({ path }, { line: 2, column: 'value' })
    expect(msg).toContain('empty cell')
  })

  it('non-numeric value, naming file, line and column', async () => {
    const rows = ['timestamp,value']
    for (let i = 0; i < 15; i++) rows.push(`2014-04-02 14:${String(i).padStart(2, '0')}:00,${i}`)
    rows.push('2014-04-02 14:15:00,abc')
    const path = await file('data.csv', `${rows.join('\n')}\n`)
    const msg = await expectInvalid({ path }, { line: 17, column: 'value' })
    expect(msg).toBe(`${path} line 17 column "value": "abc" is not a number`)
  })

  it('hexadecimal is not a decimal number', async () => {
    const path = await file('hex.csv', 'timestamp,value\n2014-04-02 14:29:00,0x1f\n')
    await expectInvalid({ path }, { line: 2, column: 'value' })
  })

  it('NaN and Infinity', async () => {
    for (const bad of ['NaN', 'Infinity', '-Infinity', '1e999']) {
      const path = await file('nan.csv', `timestamp,a,b\n2014-04-02 14:29:00,1,2\n2014-04-02 14:30:00,3,${bad}\n`)
      const msg = await expectInvalid({ path }, { line: 3, column: 'b' })
      expect(msg).toContain('not a finite number')
    }
  })

  it('unparseable timestamps', async () => {
    const path = await file('badts.csv', 'timestamp,value\n2014-04-02 14:29:00,1\n2014-04-31 14:30:00,2\n')
    const msg = await expectInvalid({ path }, { line: 3, column: 'timestamp' })
    expect(msg).toContain('"2014-04-31 14:30:00" cannot be read')
    await expectInvalid({ path: await file('badts2.csv', 'timestamp,value\nyesterday,1\n') }, { line: 2, column: 'timestamp' })
    await expectInvalid({ path: await file('badts3.csv', 'timestamp,value\n,1\n') }, { line: 2, column: 'timestamp' })
  })

  it('timestamps before 1970', async () => {
    const msg = await expectInvalid(
      { path: await file('old.csv', 'timestamp,value\n1970-01-01 00:00:00,1\n1969-12-31 23:59:59,2\n') },
      { line: 3, column: 'timestamp' },
    )
    expect(msg).toContain('before 1970')
    await expectInvalid({ path: await file('old2.csv', 'timestamp,value\n-1,1\n') }, { line: 2, column: 'timestamp' })
  })

  it('timestamps more than one day after the injected now', async () => {
    const ok = new Date(NOW + DAY).toISOString()
    const late = new Date(NOW + DAY + 1000).toISOString()
    const path = await file('future.csv', `timestamp,value\n${ok},1\n${late},2\n`)
    const msg = await expectInvalid({ path, now: NOW }, { line: 3, column: 'timestamp' })
    expect(msg).toContain('more than 1 day in the future')
    // the same file is fine a day later
    expect((await readAll({ path, now: NOW + DAY })).rows.length).toBe(2)
  })

  it('empty file, blank file, header without rows', async () => {
    for (const [name, content] of [
      ['empty.csv', ''],
      ['blank.csv', '\n\n\r\n'],
    ] as const) {
      const err = await readError({ path: await file(name, content) })
      expect(err.code).toBe('INVALID_INPUT')
      expect(err.message).toContain('the file is empty')
    }
    const msg = await expectInvalid({ path: await file('header-only.csv', 'timestamp,value\n') }, { line: 2 })
    expect(msg).toContain('no data rows')
  })

  it('malformed quoting', async () => {
    const path = await file('quote.csv', 'timestamp,value\n2014-04-02 14:29:00,1\n2014-04-02 14:30:00,"2\n')
    const msg = await expectInvalid({ path }, { line: 3 })
    expect(msg).toContain('malformed CSV')
  })

  it('a 100 MB single line fails at the line limit', async () => {
    const path = await file('huge.csv', 'timestamp,value\n2014-04-02 14:29:00,1\n')
    await truncate(path, 100 * 1024 * 1024) // one 100 MB line of NUL bytes (sparse file)
    const started = performance.now()
    const msg = await expectInvalid({ path }, { line: 3 })
    expect(msg).toContain('longer than 1048576 bytes')
    expect(performance.now() - started).toBeLessThan(5000)
    // the limit is configurable
    const small = await file('small-limit.csv', `timestamp,value\n2014-04-02 14:29:00,1\n2014-04-02 14:30:00,${'1'.repeat(200)}\n`)
    await expectInvalid({ path: small, maxLineBytes: 100 }, { line: 3 })
    expect((await readAll({ path: small, maxLineBytes: 1000 })).rows.length).toBe(2)
  })

  it('a huge line fails without the rest of it being read (endless pipe)', async () => {
    await expectEndlessLineFails('endless.csv', 'timestamp,value\n2014-04-02 14:29:00,')
  })

  it('missing file and directory', async () => {
    const missing = await readError({ path: join(dir, 'nope.csv') })
    expect(missing.code).toBe('NOT_FOUND')
    expect(missing.message).toContain('nope.csv')
    const isDir = await readError({ path: dir, format: 'csv' })
    expect(isDir.code).toBe('INVALID_INPUT')
  })

  it('an entity keeps its dimension across files when a map is shared', async () => {
    const knownDimensions = new Map<string, number>()
    const one = await file('one.csv', 'timestamp,a,b\n2014-04-02 14:29:00,1,2\n')
    const two = await file('two.csv', 'timestamp,a\n2014-04-02 14:30:00,1\n')
    await readAll({ path: one, entity: 'e', knownDimensions })
    expect(knownDimensions.get('e')).toBe(2)
    const msg = await expectInvalid({ path: two, entity: 'e', knownDimensions }, { line: 1 })
    expect(msg).toContain('dimension 2')
  })

  it('stops reading when the consumer stops', async () => {
    const lines = ['timestamp,value']
    for (let i = 0; i < 5000; i++) lines.push(`${1396448940 + i * 60},${i}`)
    const path = await file('early.csv', lines.join('\n'))
    let seen = 0
    for await (const batch of readObservations({ path, batchSize: 100, now: NOW })) {
      seen += batch.length
      if (seen >= 300) break
    }
    expect(seen).toBe(300)
  })
})

describe('JSONL', () => {
  it('reads rows with entity, ts as ms or ISO string, and meta', async () => {
    const path = await file(
      'obs.jsonl',
      [
        '{"entity":"truck-1","ts":1396448940000,"vector":[1,2,3],"meta":{"driver":"ann","moving":true,"speed":3.5}}',
        '',
        '{"entity":"truck-2","ts":"2014-04-02T14:29:00Z","vector":[0.5]}',
        '{"ts":"2014-04-02 14:30:00","vector":[4,5,6],"entity":"truck-1"}\r',
        '{"entity":"truck-2","ts":1396449000000,"vector":[-1e-3]}',
      ].join('\n'),
    )
    const { rows } = await readAll({ path })
    expect(rows).toEqual([
      { entity: 'truck-1', ts: 1396448940000, vector: [1, 2, 3], meta: { driver: 'ann', moving: true, speed: 3.5 } },
      { entity: 'truck-2', ts: Date.UTC(2014, 3, 2, 14, 29), vector: [0.5] },
      { entity: 'truck-1', ts: Date.UTC(2014, 3, 2, 14, 30), vector: [4, 5, 6] },
      { entity: 'truck-2', ts: 1396449000000, vector: [-0.001] },
    ])
  })

  it('uses --entity for rows without one (a row entity wins), in batches', async () => {
    const lines: string[] = []
    for (let i = 0; i < 2500; i++) lines.push(JSON.stringify({ ts: 1396448940000 + i, vector: [i, i + 1] }))
    lines.push(JSON.stringify({ entity: 'other', ts: 1396448940000, vector: [1] }))
    const path = await file('noentity.ndjson', `${lines.join('\n')}\n`)
    const { batches, rows } = await readAll({ path, entity: 'drone-9' })
    expect(batches.map((b) => b.length)).toEqual([1000, 1000, 501])
    expect(rows[2499]).toEqual({ entity: 'drone-9', ts: 1396448940000 + 2499, vector: [2499, 2500] })
    expect(rows[2500]?.entity).toBe('other')
  })

  it('bad JSON names the line', async () => {
    const path = await file(
      'badjson.jsonl',
      '{"entity":"a","ts":1396448940000,"vector":[1]}\n\n{"entity":"a","ts":1396448940000,"vector":[1]\n',
    )
    const msg = await expectInvalid({ path }, { line: 3 })
    expect(msg).toContain('not valid JSON')
  })

  it('wrong types name the field', async () => {
    const ok = '{"entity":"a","ts":1396448940000,"vector":[1,2]}'
    const cases: Array<[string, string]> = [
      ['{"entity":"a","ts":1396448940000,"vector":[1,"2"]}', 'vector.1'],
      ['{"entity":"a","ts":true,"vector":[1,2]}', 'ts'],
      ['{"entity":"a","ts":1396448940000}', 'vector'],
      ['{"entity":"a","ts":1396448940000,"vector":[]}', 'vector'],
      ['{"entity":"a","ts":1396448940000,"vector":[1,1e999]}', 'vector.1'],
      ['{"entity":7,"ts":1396448940000,"vector":[1,2]}', 'entity'],
      ['{"entity":"a","ts":1396448940000,"vector":[1,2],"meta":{"x":[1]}}', 'meta.x'],
      ['{"entity":"a","timestamp":1396448940000,"ts":1,"vector":[1,2]}', 'timestamp'],
      ['[1,2]', ''],
      ['42', ''],
      ['null', ''],
      ['{"entity":"a","tss":1396448940000,"vector":[1,2]}', 'tss'],
      ['{"entity":"a","ts":1396448940000,"vector":[1,2],"meta":{"k":null}}', 'meta.k'],
      ['{"entity":"a","ts":1396448940000.5,"vector":[1,2]}', 'ts'],
      ['{"entity":"a","ts":"soon","vector":[1,2]}', 'ts'],
      ['{"ts":1396448940000,"vector":[1,2]}', 'entity'],
    ]
    for (const [bad, field] of cases) {
      const path = await file('types.jsonl', `${ok}\n${bad}\n${ok}\n`)
      if (field !== '') await expectInvalid({ path }, { line: 2, field })
      else {
        // not an object at all: the line is named, no field
        const msg = await expectInvalid({ path }, { line: 2 })
        expect(msg).toBe(`${path} line 2: expected a JSON object {entity?, ts, vector, meta?}`)
      }
    }
  })

  it('timestamps out of range', async () => {
    const old = await file('old.jsonl', '{"entity":"a","ts":"1969-12-31T23:59:59Z","vector":[1]}\n')
    expect(await expectInvalid({ path: old }, { line: 1, field: 'ts' })).toContain('before 1970')
    const neg = await file('neg.jsonl', '{"entity":"a","ts":-1,"vector":[1]}\n')
    await expectInvalid({ path: neg }, { line: 1, field: 'ts' })
    const late = await file('late.jsonl', `{"entity":"a","ts":${NOW + DAY + 1},"vector":[1]}\n`)
    expect(await expectInvalid({ path: late, now: NOW }, { line: 1, field: 'ts' })).toContain('future')
  })

  it('vector dimension changing within one entity names line, expected and got', async () => {
    const path = await file(
      'dims.jsonl',
      [
        '{"entity":"a","ts":1396448940000,"vector":[1,2,3]}',
        '{"entity":"b","ts":1396448940000,"vector":[1,2]}',
        '{"entity":"a","ts":1396449000000,"vector":[4,5,6]}',
        '{"entity":"a","ts":1396449060000,"vector":[7,8]}',
      ].join('\n'),
    )
    const msg = await expectInvalid({ path }, { line: 4, field: 'vector' })
    expect(msg).toContain('expected 3, got 2')
  })

  it('empty file', async () => {
    for (const [name, content] of [
      ['empty.jsonl', ''],
      ['blank.jsonl', '\n  \n'],
    ] as const) {
      const err = await readError({ path: await file(name, content) })
      expect(err.code).toBe('INVALID_INPUT')
      expect(err.message).toContain('the file is empty')
    }
  })

  it('a 100 MB single line fails at the line limit, which is configurable', async () => {
    const path = await file('huge.jsonl', '{"entity":"a","ts":1396448940000,"vector":[1]}\n')
    await truncate(path, 100 * 1024 * 1024)
    const msg = await expectInvalid({ path }, { line: 2 })
    expect(msg).toContain('longer than 1048576 bytes')
    const row = '{"entity":"a","ts":1396448940000,"vector":[1]}'
    const small = await file('limit.jsonl', `${row}\n${row}\n{"entity":"b","ts":1396448940000,"vector":[${'1,'.repeat(100)}1]}\n`)
    await expectInvalid({ path: small, maxLineBytes: 100 }, { line: 3 })
    expect((await readAll({ path: small, maxLineBytes: 1000 })).rows.length).toBe(3)
  })

  it('a huge line fails without the rest of it being read (endless pipe)', async () => {
    await expectEndlessLineFails(
      'endless.jsonl',
      '{"entity":"a","ts":1396448940000,"vector":[1]}\n{"entity":"a","ts":1396448940000,"vector":[',
    )
  })

  it('rejects bad options', async () => {
    const path = await file('opts.jsonl', '{"entity":"a","ts":1396448940000,"vector":[1]}\n')
    await expectInvalid({ path, batchSize: 0 }, { field: 'batchSize' })
    await expectInvalid({ path, maxLineBytes: 1.5 }, { field: 'maxLineBytes' })
    await expectInvalid({ path, entity: ' ' }, { field: 'entity' })
  })
})

/**
 * Feed `prefix` and then an endless line into a FIFO: the reader must fail at the 1 MiB limit while the writer
 * has written only a few MiB. A reader that looked for the end of the line first would wait forever.
 */
async function expectEndlessLineFails(name: string, prefix: string): Promise<void> {
  const fifo = join(dir, name)
  execFileSync('mkfifo', [fifo])
  const out = createWriteStream(fifo)
  out.on('error', () => {}) // EPIPE once the reader gives up
  let written = 0
  let stop = false
  const chunk = Buffer.alloc(64 * 1024, '1')
  const writer = (async () => {
    try {
      if (!out.write(prefix)) await once(out, 'drain')
      while (!stop && written < 1024 * 1024 * 1024) {
        written += chunk.length
        if (!out.write(chunk)) await once(out, 'drain')
      }
    } catch {
      // the reader closed the pipe
    } finally {
      out.destroy()
    }
  })()
  const lines = prefix.split('\n').length
  const msg = await expectInvalid({ path: fifo, format: name.endsWith('.csv') ? 'csv' : 'jsonl' }, { line: lines })
  stop = true
  await writer
  expect(msg).toContain('longer than 1048576 bytes')
  expect(written).toBeLessThan(16 * 1024 * 1024)
}

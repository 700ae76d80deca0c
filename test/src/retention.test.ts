import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { auditLog, openLog, type PayloadOf } from '@vsdb/log'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectCliError, expectCliOk, NYC_TAXI, VSDB_BIN, vsdb } from './cli-helpers.ts'

/** nyc_taxi.csv as [epoch ms, value] rows (NAB: `YYYY-MM-DD HH:MM:SS` in UTC). */
async function original(): Promise<[number, number][]> {
  const lines = (await readFile(NYC_TAXI, 'utf8')).trim().split('\n').slice(1)
  return lines.map((line) => {
    const [ts, value] = line.split(',')
    return [Date.parse(`${(ts as string).replace(' ', 'T')}Z`), Number(value)]
  })
}

function readRows(stdout: string): { ts: number; vector: number[] }[] {
  return stdout
    .trim()
    .split('\n')
    .slice(0, -1)
    .map((line) => JSON.parse(line) as { ts: number; vector: number[] })
}

describe('vsdb raw retention', () => {
  let root: string
  let dir: string

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'vsdb-retention-cli-'))
    dir = join(root, 'node')
  })

  afterAll(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('init --raw drop-after-seal records the policy; ingest releases sealed batches; audit counts them, never as missing', async () => {
    const init = await vsdb(dir, ['init', '--raw', 'drop-after-seal'], { json: false })
    expect(init.code).toBe(0)
    expect(init.stdout).toMatch(/^raw {6}drop-after-seal$/m)
    expect(expectCliOk(await vsdb(dir, ['retention']))).toMatchObject({ policy: 'drop-after-seal', batches: 0, bytes: 0 })

    const ingest = expectCliOk(await vsdb(dir, ['ingest', NYC_TAXI]))
    // 11 batches of up to 1,000 rows; the last one holds rows past the last seal.
    expect(ingest).toMatchObject({ rows: 10320, released: { batches: 10 } })
    const shown = expectCliOk(await vsdb(dir, ['retention']))
    expect(shown).toMatchObject({ policy: 'drop-after-seal', releases: 1, batches: 10 })
    expect(shown.bytes as number).toBeGreaterThan(100_000)
    const human = await vsdb(dir, ['retention'], { json: false })
    expect(human.stdout).toMatch(/^raw retention: drop-after-seal\n10 raw batch\(es\) released by policy/)

    expect(expectCliOk(await vsdb(dir, ['audit']))).toMatchObject({ ok: true, released: 10, problems: [] })
    const audit = await vsdb(dir, ['audit'], { json: false })
    expect(audit.code).toBe(0)
    expect(audit.stdout).toMatch(/audit clean: .*, 10 blocks released by policy, in/)

    // Every observation reads back, within the lossy bound: the released rows come from their segments.
    const rows = await original()
    const run = await vsdb(dir, ['read', '--entity', 'nyc_taxi', '--format', 'jsonl'])
    expectCliOk(run)
    const read = readRows(run.stdout)
    expect(read.map((r) => r.ts)).toEqual(rows.map(([ts]) => ts))
    const values = rows.map(([, v]) => v)
    const bound = 0.01 * (Math.max(...values) - Math.min(...values))
    for (const [i, [, value]] of rows.entries()) expect(Math.abs((read[i]?.vector[0] as number) - value)).toBeLessThanOrEqual(bound)

    // The projections fold retention events too: a replay has the live digest.
    const { digest } = expectCliOk(await vsdb(dir, ['digest']))
    expect(expectCliOk(await vsdb(dir, ['replay'])).digest).toBe(digest)
  }, 120_000)

  it('exports without the released blocks; another node imports and audits the chain clean', async () => {
    const car = join(root, 'node.car')
    const exported = expectCliOk(await vsdb(dir, ['export', '--car', car]))
    expect(exported).toMatchObject({ released: 10 })
    const other = join(root, 'other')
    expectCliOk(await vsdb(other, ['init']))
    expect(expectCliOk(await vsdb(other, ['import', '--car', car]))).toMatchObject({ newEvents: exported.events })
    expect(expectCliOk(await vsdb(other, ['audit']))).toMatchObject({ ok: true, nodes: 2, released: 10 })
  }, 60_000)

  it('retention set: an event per change, none for the same policy, a clear error for an unknown one', async () => {
    expect(expectCliOk(await vsdb(dir, ['retention', 'set', 'keep']))).toEqual({ ok: true, policy: 'keep', changed: true })
    expect(expectCliOk(await vsdb(dir, ['retention', 'set', 'keep']))).toEqual({ ok: true, policy: 'keep', changed: false })
    expect(expectCliError(await vsdb(dir, ['retention', 'set', 'sometimes']), 'INVALID_INPUT').message).toMatch(
      /"sometimes" is not one of keep, drop-after-seal/,
    )
    // More rows under keep: sealed batches stay.
    const more = join(root, 'more.csv')
    const lines = ['timestamp,value']
    for (let i = 0; i < 2000; i++) lines.push(`${new Date(Date.UTC(2015, 1, 1) + i * 1_800_000).toISOString()},${10_000 + (i % 48) * 100}`)
    await writeFile(more, `${lines.join('\n')}\n`)
    const kept = expectCliOk(await vsdb(dir, ['ingest', more, '--entity', 'nyc_taxi']))
    expect(kept.released).toBeUndefined()
    expect(expectCliOk(await vsdb(dir, ['retention']))).toMatchObject({ policy: 'keep', batches: 10 })
    // Back to drop-after-seal: what is sealed now goes at once (the old last batch and the two new ones but the open one).
    const set = expectCliOk(await vsdb(dir, ['retention', 'set', 'drop-after-seal']))
    expect(set).toMatchObject({ policy: 'drop-after-seal', changed: true, released: { batches: 2 } })
    expect(expectCliOk(await vsdb(dir, ['audit']))).toMatchObject({ ok: true, released: 12 })
    const log = await openLog({ dir })
    let policies = 0
    for await (const { cid } of log.byType('retention')) {
      if (((await log.getEvent(cid)).event.payload as PayloadOf<'retention'>).released.length === 0) policies++
    }
    await log.close()
    expect(policies).toBe(3) // init, keep, drop-after-seal

    // The human summary of an ingest says what it released.
    const tail = join(root, 'tail.csv')
    const rows = ['timestamp,value']
    for (let i = 2000; i < 2500; i++)
      rows.push(`${new Date(Date.UTC(2015, 1, 1) + i * 1_800_000).toISOString()},${10_000 + (i % 48) * 100}`)
    await writeFile(tail, `${rows.join('\n')}\n`)
    const human = await vsdb(dir, ['ingest', tail, '--entity', 'nyc_taxi'], { json: false })
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout).toMatch(/segments sealed, in .*; 1 raw batch\(es\) released by policy\n$/)
  }, 60_000)
})

describe('kill -9 during ingests under drop-after-seal', () => {
  let root: string

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'vsdb-retention-crash-'))
  })

  afterAll(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('every kill leaves a store whose releases and blocks agree, and the stream carries on', async () => {
    const dir = join(root, 'node')
    expectCliOk(await vsdb(dir, ['init', '--raw', 'drop-after-seal']))
    const ROWS = 6000
    const files: string[] = []
    for (let f = 0; f < 12; f++) {
      const lines = ['timestamp,a,b']
      for (let i = 0; i < ROWS; i++) {
        const n = f * ROWS + i
        lines.push(`${new Date(Date.UTC(2020, 0, 1) + n * 60_000).toISOString()},${(Math.sin(n / 50) * 100).toFixed(2)},${n % 17}`)
      }
      const file = join(root, `part-${f}.csv`)
      await writeFile(file, `${lines.join('\n')}\n`)
      files.push(file)
    }
    let committed = 0
    let fullRunMs = 0
    const outcomes: string[] = []
    for (const [f, file] of files.entries()) {
      // Even rounds run to the end and say how long a run takes now; odd ones are killed at a point spread over
      // such a run (start-up, the ingest's write, the release's write, the checkpoint), the same on any machine.
      const kill = f % 2 === 1
      const killAfter = kill ? fullRunMs * (0.5 + 0.55 * ((f * 0.618) % 1)) : Number.POSITIVE_INFINITY
      const started = performance.now()
      const child = spawn(process.execPath, [VSDB_BIN, '--dir', dir, 'ingest', file, '--entity', 'rig', '--json'], { stdio: 'ignore' })
      const closed = new Promise<void>((resolve) => child.once('close', () => resolve()))
      const timer = kill ? setTimeout(() => child.kill('SIGKILL'), killAfter) : undefined
      await closed
      clearTimeout(timer)
      if (!kill) {
        fullRunMs = performance.now() - started
        expect(child.exitCode).toBe(0)
      }
      outcomes.push(child.signalCode === 'SIGKILL' ? `killed at ${Math.round(killAfter)} ms` : `exit ${child.exitCode}`)

      const log = await openLog({ dir })
      try {
        const report = await auditLog(log)
        expect(report.problems, `round ${f}`).toEqual([])
        // Each ingest of a file is one atomic batch: all of its rows or none.
        let rows = 0
        for await (const { cid } of log.byType('ingest')) rows += ((await log.getEvent(cid)).event.payload as PayloadOf<'ingest'>).count
        expect(rows % ROWS, `round ${f}`).toBe(0)
        committed = rows / ROWS
        // Whatever a retention event released is gone, pins included; every other batch is held.
        const released = new Set<string>()
        for await (const { cid } of log.byType('retention')) {
          for (const named of ((await log.getEvent(cid)).event.payload as PayloadOf<'retention'>).released) released.add(named.toString())
        }
        const helia = await log.helia()
        for await (const { cid } of log.byType('ingest')) {
          const { batch } = (await log.getEvent(cid)).event.payload as PayloadOf<'ingest'>
          const gone = released.has(cid.toString())
          expect(await log.hasBlock(batch), `round ${f}: batch of ${cid}`).toBe(!gone)
          expect(await helia.pins.isPinned(batch), `round ${f}: pin of ${cid}`).toBe(!gone)
        }
        expect(report.released).toBe(released.size)
        outcomes[f] += ` (files in: ${committed}, batches released: ${released.size})`
      } finally {
        await log.close()
      }
    }
    console.log(`kill -9 under drop-after-seal, one run ≈ ${Math.round(fullRunMs)} ms: ${outcomes.join('; ')}`)
    // One more ingest with no kill: it rebuilds the open segment from the resume state and the held batches.
    const last = join(root, 'last.csv')
    const lines = ['timestamp,a,b']
    for (let i = 0; i < 500; i++) {
      const n = files.length * ROWS + i
      lines.push(`${new Date(Date.UTC(2020, 0, 1) + n * 60_000).toISOString()},${(Math.sin(n / 50) * 100).toFixed(2)},${n % 17}`)
    }
    await writeFile(last, `${lines.join('\n')}\n`)
    expectCliOk(await vsdb(dir, ['ingest', last, '--entity', 'rig']))
    expect(expectCliOk(await vsdb(dir, ['audit']))).toMatchObject({ ok: true })
    const read = await vsdb(dir, ['read', '--entity', 'rig', '--format', 'jsonl'])
    expectCliOk(read)
    expect(readRows(read.stdout)).toHaveLength(committed * ROWS + 500)
    const { digest } = expectCliOk(await vsdb(dir, ['digest']))
    expect(expectCliOk(await vsdb(dir, ['replay'])).digest).toBe(digest)
    expect(committed, outcomes.join(', ')).toBeGreaterThanOrEqual(6)
    expect(outcomes.filter((o) => o.startsWith('killed')).length, outcomes.join(', ')).toBeGreaterThanOrEqual(3)
    expect(expectCliOk(await vsdb(dir, ['retention'])).batches as number).toBeGreaterThan(0)
  }, 180_000)
})

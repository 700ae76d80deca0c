/**
 * A streamed ingest (input over 8 MiB) stages the next batch while the log writes the one before: a failed write
 * must still stop everything after it from reaching the log, and be thrown only once nothing is in flight.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type AppendInput, initLog, type Log, type StoredEvent, VsdbError } from '@vsdb/log'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ingestFiles } from '../src/ingest.ts'

/** Over the 8 MiB that ingestFiles stages whole (about 12 MiB of CSV): streamed, batch by batch. */
const ROWS = 600_000
const BATCH = 50_000

let dir: string
let file: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vsdb-ingest-pipeline-'))
  file = join(dir, 'e.csv')
  const lines = ['timestamp,value']
  for (let i = 0; i < ROWS; i++) lines.push(`${1_700_000_000_000 + i * 1000},${(i % 977) / 10}`)
  await writeFile(file, `${lines.join('\n')}\n`)
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** The log, with its `failAt`-th appendBatch (counting from 1) failing once its batch has been handed over. */
function failingLog(log: Log, failAt: number): Log {
  let calls = 0
  return new Proxy(log, {
    get(target, key, receiver) {
      if (key !== 'appendBatch') return Reflect.get(target, key, receiver)
      return (inputs: AppendInput[]) => {
        calls++
        if (calls !== failAt) return target.appendBatch(inputs)
        return new Promise<StoredEvent[]>((_, reject) => setTimeout(() => reject(new VsdbError('WRITE_FAILED', 'disk full')), 20))
      }
    },
  })
}

describe('pipelined commits', () => {
  it('writes every batch in order and tells each once, after it is durable', async () => {
    const log = await initLog({ dir: join(dir, 'ok') })
    try {
      const told: number[] = []
      const summary = await ingestFiles(
        log,
        [file],
        { batchSize: BATCH, onCommitted: (events) => told.push(...events.map((e) => e.event.seq)) },
        new Map(),
      )
      const batches = Math.ceil(ROWS / BATCH)
      expect(summary).toMatchObject({ rows: ROWS, events: batches })
      expect(told).toEqual(Array.from({ length: batches }, (_, i) => i + 1))
      expect(log.head()?.seq).toBe(batches)
    } finally {
      await log.close()
    }
  })

  it('stops at a failed write: nothing after it is written, and the error comes once nothing is in flight', async () => {
    const log = await initLog({ dir: join(dir, 'failing') })
    try {
      const told: number[] = []
      const failing = failingLog(log, 3)
      await expect(
        ingestFiles(
          failing,
          [file],
          { batchSize: BATCH, onCommitted: (events) => told.push(...events.map((e) => e.event.seq)) },
          new Map(),
        ),
      ).rejects.toThrow('disk full')
      // The two batches before the failed one (the genesis is seq 0).
      expect(told).toEqual([1, 2])
      expect(log.head()?.seq).toBe(2)
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(log.head()?.seq).toBe(2)
    } finally {
      await log.close()
    }
  })
  it('writes nothing of a streamed input whose last row is bad', async () => {
    const bad = join(dir, 'bad-at-end.csv')
    const lines = ['timestamp,value']
    for (let i = 0; i < ROWS; i++) lines.push(`${1_700_000_000_000 + i * 1000},${(i % 977) / 10}`)
    lines.push(`${1_700_000_000_000 + ROWS * 1000},not-a-number`)
    await writeFile(bad, `${lines.join('\n')}\n`)
    const log = await initLog({ dir: join(dir, 'bad') })
    try {
      const told: number[] = []
      const dims = new Map<string, number>()
      const error = await ingestFiles(
        log,
        [bad],
        { batchSize: BATCH, onCommitted: (events) => told.push(...events.map((e) => e.event.seq)) },
        dims,
      ).catch((err: unknown) => err)
      expect(error).toBeInstanceOf(VsdbError)
      expect((error as VsdbError).code).toBe('INVALID_INPUT')
      expect((error as VsdbError).message).toBe(`${bad} line ${ROWS + 2} column "value": "not-a-number" is not a number`)
      expect(told).toEqual([])
      expect(log.head()?.seq).toBe(0)
    } finally {
      await log.close()
    }
  })

  it('spills into the temporary directory and leaves nothing there, and ingests without one by reading the file again', async () => {
    const before = process.env.TMPDIR
    const tmp = join(dir, 'tmp')
    await mkdir(tmp)
    try {
      const outcomes: { head: number | undefined; rows: number; left: string[] }[] = []
      for (const [name, tmpdir] of [
        ['spilled', tmp],
        ['no-tmp', join(dir, 'no-such-dir')],
      ] as const) {
        process.env.TMPDIR = tmpdir
        const log = await initLog({ dir: join(dir, name) })
        try {
          const summary = await ingestFiles(log, [file], { batchSize: BATCH }, new Map())
          outcomes.push({ head: log.head()?.seq, rows: summary.rows, left: await readdir(tmp) })
        } finally {
          await log.close()
        }
      }
      const batches = Math.ceil(ROWS / BATCH)
      expect(outcomes).toEqual([
        { head: batches, rows: ROWS, left: [] },
        { head: batches, rows: ROWS, left: [] },
      ])
    } finally {
      if (before === undefined) delete process.env.TMPDIR
      else process.env.TMPDIR = before
    }
  })
})

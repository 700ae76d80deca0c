import { randomBytes } from 'node:crypto'
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Head, initLog, openLog } from '@vsdb/log'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliRun, dumpLevel, expectCliError, expectCliOk, NYC_TAXI, openStoreDb, vsdb } from './cli-helpers.ts'

// The CLI as a user runs it: one process per command, real Level on disk, real files. Valid data goes in,
// round-trips through a CAR into a second node and audits clean; every kind of bad input (a changed byte on disk
// or in a CAR, a newer data format, bad CSV rows, garbage as a CAR) is refused with an error naming the problem,
// and leaves the store byte-for-byte as it was.

type Cid = Head['cid']

/** Flips one bit in the middle of a block's value, directly in the closed store's Level db. */
async function flipStoredBlock(dir: string, cid: Cid): Promise<void> {
  const db = await openStoreDb(dir)
  try {
    const key = Buffer.concat([Buffer.from('!blocks!'), cid.multihash.bytes])
    const value = await db.get(key)
    if (value === undefined) throw new Error(`block ${cid} is not stored under !blocks!<multihash>`)
    const changed = Uint8Array.from(value)
    const at = changed.length >> 1
    changed[at] = (changed[at] as number) ^ 0x01
    await db.put(key, changed)
  } finally {
    await db.close()
  }
}

/** A copy of `car` with one bit flipped in the middle of `block`'s bytes (which must occur exactly once). */
function flipCarBlock(car: Buffer, block: Uint8Array): Buffer {
  const at = car.indexOf(block)
  expect(at, 'block bytes not found in the CAR').toBeGreaterThan(0)
  expect(car.indexOf(block, at + 1), 'block bytes found twice in the CAR').toBe(-1)
  const out = Buffer.from(car)
  const pos = at + (block.length >> 1)
  out[pos] = (out[pos] as number) ^ 0x01
  return out
}

describe('vsdb CLI', () => {
  let root: string
  let dirA: string
  let carA: string
  let carBytes: Buffer
  let init: CliRun
  let ingest: CliRun
  let exported: CliRun
  let nodeA: string
  let rows: number
  let chainA: { seq: number; cid: string }[]
  /** An event of node A (seq 5) and its bytes. */
  let event5: { cid: Cid; bytes: Uint8Array }
  /** The observation block linked from A's second ingest event, its bytes and that event's seq. */
  let batch3: { cid: Cid; bytes: Uint8Array }
  let batchSeq = -1

  let copies = 0
  /** A private copy of node A's directory (closed), for tests that change or damage it. */
  async function copyOfA(): Promise<string> {
    const dir = join(root, `copy-${++copies}`)
    await cp(dirA, dir, { recursive: true })
    return dir
  }

  async function freshNode(name: string): Promise<string> {
    const dir = join(root, name)
    await (await initLog({ dir })).close()
    return dir
  }

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'vsdb-cli-'))
    dirA = join(root, 'a')
    carA = join(root, 'a.car')
    init = await vsdb(dirA, ['init'])
    nodeA = expectCliOk(init).node as string
    ingest = await vsdb(dirA, ['ingest', NYC_TAXI])
    exported = await vsdb(dirA, ['export', '--car', carA])
    expectCliOk(exported)
    carBytes = await readFile(carA)
    const lines = (await readFile(NYC_TAXI, 'utf8')).split('\n').filter((line) => line.trim() !== '')
    rows = lines.length - 1

    const log = await openLog({ dir: dirA })
    try {
      chainA = []
      for await (const { seq, cid } of log.chain(nodeA)) chainA.push({ seq, cid: cid.toString() })
      const five = (await log.cidsAt(nodeA, 5))[0] as Cid
      event5 = { cid: five, bytes: await log.getBlock(five) }
      // Each ingest event is followed by the segments it sealed: take the second ingest event of the chain.
      const ingests = []
      for await (const entry of log.byType('ingest')) ingests.push(entry)
      const second = ingests[1] as { seq: number; cid: Cid }
      const three = await log.getEvent(second.cid)
      expect(three.event.type).toBe('ingest')
      batchSeq = second.seq
      const batch = (three.event.payload as { batch: Cid }).batch
      batch3 = { cid: batch, bytes: await log.getBlock(batch) }
    } finally {
      await log.close()
    }
  }, 60_000)

  afterAll(async () => {
    if (root !== undefined) await rm(root, { recursive: true, force: true })
  })

  it('init, ingest nyc_taxi.csv, audit: clean, with the counts in JSON', { timeout: 30_000 }, async () => {
    expect(init.json).toMatchObject({ ok: true, role: 'edge', genesis: chainA[0]?.cid })
    expect(nodeA).toMatch(/^12D3KooW/)
    const summary = expectCliOk(ingest)
    expect(summary).toMatchObject({
      ok: true,
      files: 1,
      rows,
      entities: ['nyc_taxi'],
      from: Date.parse('2014-07-01T00:00:00Z'),
      to: Date.parse('2015-01-31T23:30:00Z'),
      head: chainA.at(-1)?.cid,
    })
    const events = summary.events as number
    expect(events).toBeGreaterThan(0)

    const audit = await vsdb(dirA, ['audit'])
    expect(audit.code).toBe(0)
    expect(expectCliOk(audit)).toMatchObject({
      ok: true,
      nodes: 1,
      events: events + 1,
      linkedBlocks: events,
      forks: 0,
      unpinned: 0,
      problems: [],
    })
    expect(chainA.map((e) => e.seq)).toEqual([...Array(events + 1).keys()])
  })

  it('export → import into a second node: audit clean, it holds the first chain, a second import changes nothing', {
    timeout: 40_000,
  }, async () => {
    const out = exported.json as { roots: string[]; events: number; blocks: number }
    expect(out.roots).toEqual([chainA.at(-1)?.cid])
    expect(out.events).toBe(chainA.length)
    expect(out.blocks).toBe(2 * chainA.length - 1) // every event but the genesis links one observation block

    const dirB = join(root, 'b')
    const nodeB = expectCliOk(await vsdb(dirB, ['init'])).node as string
    expect(nodeB).not.toBe(nodeA)
    const imported = expectCliOk(await vsdb(dirB, ['import', '--car', carA]))
    expect(imported).toMatchObject({ ok: true, roots: 1, events: out.events, newEvents: out.events, newBlocks: out.blocks, forks: 0 })

    const audit = expectCliOk(await vsdb(dirB, ['audit']))
    expect(audit).toMatchObject({
      ok: true,
      nodes: 2,
      events: out.events + 1,
      linkedBlocks: out.blocks - out.events,
      forks: 0,
      problems: [],
    })
    const status = expectCliOk(await vsdb(dirB, ['status']))
    expect(status).toMatchObject({
      node_count: 1,
      members: [{ node_id: nodeB, entities: 1 }],
      ipfs: { total_cids: out.blocks + 1, pinned_nodes: 1 },
    })

    const log = await openLog({ dir: dirB })
    try {
      const chain: { seq: number; cid: string }[] = []
      for await (const { seq, cid } of log.chain(nodeA)) chain.push({ seq, cid: cid.toString() })
      expect(chain).toEqual(chainA)
      expect((await log.heads()).map((h) => `${h.node} ${h.seq} ${h.cid}`).sort()).toEqual(
        [`${nodeA} ${chainA.length - 1} ${chainA.at(-1)?.cid}`, `${nodeB} 0 ${log.config.genesis}`].sort(),
      )
    } finally {
      await log.close()
    }

    const before = await dumpLevel(dirB)
    const again = expectCliOk(await vsdb(dirB, ['import', '--car', carA]))
    expect(again).toMatchObject({ ok: true, events: out.events, newEvents: 0, newBlocks: 0, forks: 0, conflicts: [] })
    expect(await dumpLevel(dirB)).toEqual(before)
  })

  it('a flipped byte in a stored event block: audit exits 1 naming its CID, node and seq', { timeout: 30_000 }, async () => {
    const dir = await copyOfA()
    await flipStoredBlock(dir, event5.cid)
    const run = await vsdb(dir, ['audit'])
    expect(run.code).toBe(1)
    const error = expectCliError(run, 'CORRUPT_BLOCK')
    expect(error).toMatchObject({ cid: event5.cid.toString(), node: nodeA, seq: 5 })
    expect(run.stderr).toContain(event5.cid.toString())
    expect(run.stderr).toContain(nodeA)
    expect(run.stderr).toMatch(/\bseq 5\b/)
  })

  it('a flipped byte in a stored observation block: audit names that block and the event linking it', { timeout: 30_000 }, async () => {
    const dir = await copyOfA()
    await flipStoredBlock(dir, batch3.cid)
    const run = await vsdb(dir, ['audit'])
    expect(run.code).toBe(1)
    const error = expectCliError(run, 'CORRUPT_BLOCK')
    expect(error).toMatchObject({ cid: batch3.cid.toString(), node: nodeA, seq: batchSeq })
    expect(run.stderr).toContain(batch3.cid.toString())
  })

  it.each([
    ['an event block', () => event5],
    ['an observation block', () => batch3],
  ])(
    'import of a CAR with a flipped byte in %s is refused naming the CID; the store is unchanged',
    { timeout: 30_000 },
    async (what, pick) => {
      const block = pick()
      const car = join(root, `flipped-${what.replaceAll(' ', '-')}.car`)
      await writeFile(car, flipCarBlock(carBytes, block.bytes))
      const dir = await freshNode(`fresh-${what.replaceAll(' ', '-')}`)
      const before = await dumpLevel(dir)
      const run = await vsdb(dir, ['import', '--car', car])
      const error = expectCliError(run, 'CORRUPT_BLOCK')
      expect(error.cid).toBe(block.cid.toString())
      expect(run.stderr).toContain(block.cid.toString())
      expect(await dumpLevel(dir)).toEqual(before)
    },
  )

  it('a data directory of a newer format is refused with VERSION_TOO_NEW and left alone', { timeout: 30_000 }, async () => {
    const dir = await copyOfA()
    const configFile = join(dir, 'config.json')
    const config = JSON.parse(await readFile(configFile, 'utf8')) as { format: number }
    expect(config.format).toBe(1)
    const newer = `${JSON.stringify({ ...config, format: 2 }, null, 2)}\n`
    await writeFile(configFile, newer)
    const before = await dumpLevel(dir)
    for (const args of [['status'], ['audit'], ['ingest', NYC_TAXI]]) {
      const error = expectCliError(await vsdb(dir, args), 'VERSION_TOO_NEW')
      expect(error.message, args.join(' ')).toMatch(/format 2/)
    }
    expect(await dumpLevel(dir)).toEqual(before)
    expect(await readFile(configFile, 'utf8')).toBe(newer)
  })

  describe('bad CSV files are refused naming line and column; the store is unchanged', () => {
    const header = 'timestamp,a,b,c'
    const row = (i: number): string => `2014-07-01 ${String(i % 24).padStart(2, '0')}:00:00,${i},${i * 2},${i * 3}`
    const good = (n: number): string[] => [header, ...Array.from({ length: n }, (_, i) => row(i))]
    const cases: { name: string; lines: () => string[]; line: number; column: string; message: RegExp }[] = [
      {
        name: 'no timestamp column',
        lines: () => ['time,a,b,c', ...good(5).slice(1)],
        line: 1,
        column: 'timestamp',
        message: /no "timestamp" column/,
      },
      {
        name: 'a non-numeric cell',
        lines: () => good(20).map((l, i) => (i === 6 ? l.replace(/,(\d+),(\d+)$/, ',$1,12x') : l)),
        line: 7,
        column: 'c',
        message: /"12x" is not a number/,
      },
      {
        name: 'an unparseable timestamp',
        lines: () => good(20).map((l, i) => (i === 11 ? l.replace(/^[^,]+/, '2014-07-01 25:61:00') : l)),
        line: 12,
        column: 'timestamp',
        message: /"2014-07-01 25:61:00" cannot be read/,
      },
    ]

    it.each(cases)('$name', { timeout: 30_000 }, async ({ name, lines, line, column, message }) => {
      const dir = await copyOfA()
      const file = join(root, `${name.replaceAll(' ', '-')}.csv`)
      await writeFile(file, `${lines().join('\n')}\n`)
      const before = await dumpLevel(dir)
      const error = expectCliError(await vsdb(dir, ['ingest', file]), 'INVALID_INPUT')
      expect(error).toMatchObject({ line, column })
      expect(error.message).toContain(`${file} line ${line} column "${column}"`)
      expect(error.message).toMatch(message)
      const after = await dumpLevel(dir)
      expect(after.bySublevel.seq).toBe(before.bySublevel.seq)
      expect(after).toEqual(before)
    })
  })

  it('a bad row far into the input (line 25,000 of 30,000, after many batches; or in a second file) writes nothing', {
    timeout: 30_000,
  }, async () => {
    const dir = await copyOfA()
    const lines = ['timestamp,value']
    const t0 = Date.parse('2016-01-01T00:00:00Z')
    for (let i = 0; i < 30_000; i++) lines.push(`${new Date(t0 + i * 60_000).toISOString()},${i % 97}`)
    lines[24_999] = `${new Date(t0).toISOString()},abc` // line 25000 of the file
    const file = join(root, 'late-bad-row.csv')
    await writeFile(file, `${lines.join('\n')}\n`)
    const before = await dumpLevel(dir)

    const late = expectCliError(await vsdb(dir, ['ingest', file]), 'INVALID_INPUT')
    expect(late).toMatchObject({ line: 25_000, column: 'value' })
    expect(await dumpLevel(dir)).toEqual(before)

    // A good file first and the bad one second: the good one is not committed either.
    const second = expectCliError(await vsdb(dir, ['ingest', NYC_TAXI, file]), 'INVALID_INPUT')
    expect(second).toMatchObject({ line: 25_000, column: 'value' })
    expect(second.message).toContain(file)
    expect(await dumpLevel(dir)).toEqual(before)
  })

  it.each([
    ['random bytes', () => Buffer.concat([Buffer.from('not a CAR\n'), randomBytes(4096)])],
    ['an empty file', () => Buffer.alloc(0)],
    ['a CAR cut off inside a block', () => carBytes.subarray(0, carBytes.indexOf(batch3.bytes) + 10)],
  ])('garbage as a CAR (%s) is refused with BAD_CAR; the store is unchanged', { timeout: 30_000 }, async (what, bytes) => {
    const car = join(root, `garbage-${what.replaceAll(' ', '-')}.car`)
    await writeFile(car, bytes())
    const dir = await freshNode(`garbage-${what.replaceAll(' ', '-')}`)
    const before = await dumpLevel(dir)
    const error = expectCliError(await vsdb(dir, ['import', '--car', car]), 'BAD_CAR')
    expect(error.message).toMatch(/CAR/)
    expect(await dumpLevel(dir)).toEqual(before)
  })
})

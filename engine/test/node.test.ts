import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { initLog } from '@vsdb/log'
import { createViews, eventsAfter, stateDigest } from '@vsdb/projections'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { openNode } from '../src/node.ts'
import { stubParts } from './stub-parts.ts'

const dirs: string[] = []
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
})

async function fixture(rows: number, start = 0): Promise<{ dir: string; csv: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'vsdb-node-'))
  dirs.push(dir)
  const lines = ['timestamp,a,b']
  for (let i = start; i < start + rows; i++) lines.push(`${1_600_000_000 + i * 60},${(Math.sin(i / 20) * 10).toFixed(3)},${i % 7}`)
  const csv = join(dir, `sensor-${start}.csv`)
  await writeFile(csv, `${lines.join('\n')}\n`)
  return { dir, csv }
}

describe('engine node', () => {
  it('seals segments as it ingests, carries the open segment across a restart, and reads every observation back', async () => {
    const { dir, csv } = await fixture(1000)
    const { csv: more } = await fixture(300, 1000)
    await (await initLog({ dir: join(dir, 'node') })).close()

    const node = await openNode({ dir: join(dir, 'node'), parts: stubParts() })
    const first = await node.ingest([csv], { entity: 'sensor' })
    expect(first).toMatchObject({ rows: 1000, segments: 3 })
    expect(node.segments({ entity: 'sensor' }).map((s) => s.through)).toEqual([256, 512, 768])
    await node.close()

    const reopened = await openNode({ dir: join(dir, 'node'), parts: stubParts() })
    const second = await reopened.ingest([more], { entity: 'sensor' })
    expect(second.segments).toBe(2)
    const segments = reopened.segments({ entity: 'sensor' })
    expect(segments.map((s) => s.through)).toEqual([256, 512, 768, 1024, 1280])
    // The segment that spans the restart holds the 232 rows ingested before it and 24 after.
    expect(segments[3]).toMatchObject({ count: 256, from: (1_600_000_000 + 768 * 60) * 1000, to: (1_600_000_000 + 1023 * 60) * 1000 })
    expect(reopened.views.entity('sensor')).toMatchObject({ observations: 1300, segments: 5, sealedObservations: 1280, dim: 2 })

    const all = await reopened.read({ entity: 'sensor' })
    expect(all).toHaveLength(1300)
    expect(all.map((o) => o.ts)).toEqual(Array.from({ length: 1300 }, (_, i) => (1_600_000_000 + i * 60) * 1000))
    expect(all[1299]?.vector).toEqual([Number((Math.sin(1299 / 20) * 10).toFixed(3)), 1299 % 7])
    const window = await reopened.read({ entity: 'sensor', from: all[500]!.ts, to: all[520]!.ts })
    expect(window).toHaveLength(21)
    await expect(reopened.read({ entity: 'nobody' })).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await reopened.close()
  })

  it('has the digest of a replay of its log from zero', async () => {
    const { dir, csv } = await fixture(900)
    await (await initLog({ dir: join(dir, 'node') })).close()
    const node = await openNode({ dir: join(dir, 'node'), parts: stubParts() })
    await node.ingest([csv])
    const live = node.digest()
    const replay = createViews()
    for await (const stored of eventsAfter(node.log)) replay.apply(stored)
    expect(stateDigest(replay.state())).toBe(live.digest)
    expect(live.events).toBe(1 + 1 + 3) // genesis, one ingest batch of 900 rows, three segments
    await node.close()
  })

  it('restarts from a checkpoint plus the log tail, and distrusts a corrupt or stale checkpoint', async () => {
    const { dir, csv } = await fixture(700)
    const { csv: more } = await fixture(100, 700)
    const home = join(dir, 'node')
    await (await initLog({ dir: home })).close()
    let node = await openNode({ dir: home, parts: stubParts() })
    expect(node.loadedFrom).toMatchObject({ checkpoint: false, reason: 'no checkpoint' })
    await node.ingest([csv], { entity: 'sensor' })
    const before = node.digest()
    await node.close()

    node = await openNode({ dir: home, parts: stubParts() })
    expect(node.loadedFrom).toEqual({ checkpoint: true, tail: 0 })
    expect(node.digest()).toEqual(before)
    expect(await node.replay()).toEqual(before)
    await node.ingest([more], { entity: 'sensor' })
    const after = node.digest()
    await node.close()

    // A flipped byte in the checkpoint: refused, and a full replay gives the same state.
    const root = join(home, 'projections')
    const current = (await readFile(join(root, 'CURRENT'), 'utf8')).trim()
    const views = join(root, current, 'views.bin')
    const bytes = await readFile(views)
    bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] as number) ^ 1
    await writeFile(views, bytes)
    node = await openNode({ dir: home, parts: stubParts() })
    expect(node.loadedFrom.checkpoint).toBe(false)
    expect(node.loadedFrom.reason).toMatch(/does not match its hash/)
    expect(node.digest()).toEqual(after)
    await node.close()

    // Another node's checkpoint covers chains this log does not hold: refused.
    const other = await fixture(300)
    await (await initLog({ dir: join(other.dir, 'node') })).close()
    const otherNode = await openNode({ dir: join(other.dir, 'node'), parts: stubParts() })
    await otherNode.ingest([other.csv])
    await otherNode.close()
    await rm(root, { recursive: true })
    await cp(join(other.dir, 'node', 'projections'), root, { recursive: true })
    expect((await readdir(root)).includes('CURRENT')).toBe(true)
    node = await openNode({ dir: home, parts: stubParts() })
    expect(node.loadedFrom.reason).toMatch(/does not hold/)
    expect(node.digest()).toEqual(after)
    await node.close()
  })
})

describe('engine node: checkpoint files', () => {
  it('replays from zero, to the same digest, when any file of the checkpoint has a flipped byte', async () => {
    const { dir, csv } = await fixture(700)
    const home = join(dir, 'node')
    await (await initLog({ dir: home })).close()
    let node = await openNode({ dir: home, parts: stubParts() })
    await node.ingest([csv], { entity: 'sensor' })
    const before = node.digest()
    await node.close()
    const root = join(home, 'projections')
    // Each full replay writes a new checkpoint on close: look its files up again each time, in the same order.
    const filesNow = async () => {
      const current = join(root, (await readFile(join(root, 'CURRENT'), 'utf8')).trim())
      const entries = await readdir(current, { withFileTypes: true, recursive: true })
      return entries
        .filter((e) => e.isFile())
        .map((e) => join(e.parentPath, e.name))
        .sort()
    }
    const count = (await filesNow()).length
    expect(count).toBe(5) // manifest.json, views.bin, index/{manifest.json, meta-*.bin, hnsw-2-*.bin}
    for (let i = 0; i < count; i++) {
      const file = (await filesNow())[i] as string
      const bytes = await readFile(file)
      bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] as number) ^ 1
      await writeFile(file, bytes)
      node = await openNode({ dir: home, parts: stubParts() })
      expect(node.loadedFrom, file).toMatchObject({ checkpoint: false, reason: expect.any(String) })
      expect(node.digest()).toEqual(before)
      await node.close()
    }
    node = await openNode({ dir: home, parts: stubParts() })
    expect(node.loadedFrom).toEqual({ checkpoint: true, tail: 0 })
    expect(node.digest()).toEqual(before)
    await node.close()
  })
})

describe('engine node: in-memory batches', () => {
  const rowsFrom = (start: number, n: number, entity = 'truck') =>
    Array.from({ length: n }, (_, i) => ({
      entity,
      ts: 1_700_000_000_000 + (start + i) * 1000,
      vector: [Math.sin((start + i) / 9), (start + i) % 5],
    }))

  it('ingests concurrent batches one at a time in call order, tells listeners each folded event, and refuses bad rows whole', async () => {
    const { dir } = await fixture(1)
    await (await initLog({ dir: join(dir, 'node') })).close()
    const node = await openNode({ dir: join(dir, 'node'), parts: stubParts() })
    const seen: string[] = []
    const sealed: number[] = []
    const unsubscribe = node.onEvent((event, segment) => {
      seen.push(event.event.type)
      if (segment !== undefined) sealed.push(segment.through)
    })
    const summaries = await Promise.all([0, 1, 2, 3].map((b) => node.ingestRows(rowsFrom(b * 200, 200), { now: 1_800_000_000_000 })))
    expect(summaries.map((s) => s.rows)).toEqual([200, 200, 200, 200])
    expect(sealed).toEqual([256, 512, 768])
    expect(seen.filter((t) => t === 'ingest')).toHaveLength(4)
    const all = await node.read({ entity: 'truck' })
    expect(all.map((o) => o.ts)).toEqual(rowsFrom(0, 800).map((r) => r.ts))

    const before = node.digest()
    const bad = [...rowsFrom(800, 5), { entity: 'truck', ts: 1_700_000_900_000, vector: [1, 'x'] }]
    await expect(node.ingestRows(bad, { now: 1_800_000_000_000 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('observations[5] field "vector.1"'),
    })
    await expect(node.ingestRows([{ entity: 'truck', ts: 1_700_000_900_000, vector: [1, 2, 3] }])).rejects.toThrow(
      /dimension changed for entity "truck": expected 2, got 3/,
    )
    await expect(node.ingestRows([])).rejects.toMatchObject({ code: 'INVALID_INPUT' })
    expect(node.digest()).toEqual(before)
    unsubscribe()
    await node.ingestRows(rowsFrom(800, 10), { now: 1_800_000_000_000 })
    expect(seen.filter((t) => t === 'ingest')).toHaveLength(4)
    await node.close()
  })
  it('writes the calls made while one is queued as one batch, each answered alone, a bad call refused alone, in call order around other ingests', async () => {
    const { dir, csv } = await fixture(300)
    await (await initLog({ dir: join(dir, 'node') })).close()
    const node = await openNode({ dir: join(dir, 'node'), parts: stubParts() })
    const writes = vi.spyOn(node.log, 'appendBatch')
    const order: string[] = []
    node.onEvent((event) => {
      if (event.event.type === 'ingest') order.push((event.event.payload as { entity: string }).entity)
    })
    const now = { now: 1_800_000_000_000 }
    // The bad call would introduce entity x with 3 values; refused, it introduces nothing, and x with 2 is fine.
    const bad = [
      { entity: 'x', ts: 1_700_000_000_000, vector: [1, 2, 3] },
      { entity: 'x', ts: 1_700_000_001_000, vector: [1, 'two', 3] },
    ]
    const calls = [
      node.ingestRows(rowsFrom(0, 100, 'a'), now),
      node.ingestRows(rowsFrom(0, 300, 'b'), now),
      node.ingestRows(bad, now),
      node.ingestRows(rowsFrom(0, 20, 'x'), now),
      node.ingest([csv], { entity: 'sensor' }),
      node.ingestRows(rowsFrom(0, 5, 'd'), now),
    ]
    const settled = await Promise.allSettled(calls)
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled'])
    expect((settled[2] as PromiseRejectedResult).reason).toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('vector.1'),
    })
    const summaries = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
    expect(summaries.map((s) => [s.entities, s.rows, s.segments])).toEqual([
      [['a'], 100, 0],
      [['b'], 300, 1],
      [['x'], 20, 0],
      [['sensor'], 300, 1],
      [['d'], 5, 0],
    ])
    expect(new Set(summaries.map((s) => s.head)).size).toBe(5)
    // a, b and x in one write; the file's; d's, queued after the file.
    expect(writes).toHaveBeenCalledTimes(3)
    expect(order).toEqual(['a', 'b', 'x', 'sensor', 'd'])
    expect(node.views.entity('x')?.dim).toBe(2)
    await node.close()
  })

  it('answers every call after a group fails before its write (a closed node): none joins the failed group and hangs', async () => {
    const { dir } = await fixture(1)
    await (await initLog({ dir: join(dir, 'node') })).close()
    const node = await openNode({ dir: join(dir, 'node'), parts: stubParts() })
    await node.ingestRows(rowsFrom(0, 10, 'a'), { now: 1_800_000_000_000 })
    await node.close()
    for (let i = 0; i < 3; i++) await expect(node.ingestRows(rowsFrom(10 + i, 1, 'a'), { now: 1_800_000_000_000 })).rejects.toThrow()
  })
})

describe('engine node: open alerts', () => {
  // The stand-in model scores a spike high and never seals early (the real one seals at a change of regime).
  it('reports the alerts of the open segment, the same after a restart, and moves them into the segment when it seals', async () => {
    const { dir } = await fixture(1)
    await (await initLog({ dir: join(dir, 'node') })).close()
    const spike = (i: number) => (i === 280 || i === 290 ? 100 : 0)
    const rows = (start: number, n: number) =>
      Array.from({ length: n }, (_, j) => ({
        entity: 'pump',
        ts: 1_700_000_000_000 + (start + j) * 1000,
        vector: [Math.sin((start + j) / 5) + spike(start + j)],
      }))
    const node = await openNode({ dir: join(dir, 'node'), parts: stubParts() })
    const told: { ts: number; segment: string | null }[] = []
    node.onAlert((a) => told.push({ ts: a.ts, segment: a.segment }))
    await node.ingestRows(rows(0, 300), { now: 1_800_000_000_000 })
    const open = await node.openAlerts('pump')
    // Told at once, each once: the sealed segment's alerts with it, the open ones with no segment yet.
    const sealedFirst = node.views.alerts({ entity: 'pump' })
    expect(told).toEqual([...sealedFirst.map((a) => ({ ts: a.ts, segment: a.segment })), ...open.map((a) => ({ ts: a.ts, segment: null }))])
    const sealedTo = node.segments({ entity: 'pump' }).at(-1)?.to ?? 0
    expect(open.length).toBeGreaterThan(0)
    expect(open.every((a) => a.ts > sealedTo && a.score >= 0.5)).toBe(true)
    await node.close()
    const reopened = await openNode({ dir: join(dir, 'node'), parts: stubParts() })
    expect(await reopened.openAlerts()).toEqual(open)
    const toldAfter: number[] = []
    reopened.onAlert((a) => toldAfter.push(a.ts))
    await reopened.ingestRows(rows(300, 300), { now: 1_800_000_000_000 })
    // A new process has told nothing yet: the alerts sealed now are told with their segments.
    expect(toldAfter).toEqual(expect.arrayContaining(open.map((a) => a.ts)))
    const sealedAlerts = reopened.views.alerts({ entity: 'pump' }).map((a) => a.ts)
    for (const a of open) expect(sealedAlerts).toContain(a.ts)
    await expect(reopened.openAlerts('nobody')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await reopened.close()
  })
})

import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as dagCbor from '@ipld/dag-cbor'
import { auditLog, encodeBlock, initLog, type PayloadOf, type RetentionPolicy } from '@vsdb/log'
import { createViews, eventsAfter, stateDigest } from '@vsdb/projections'
import { CID } from 'multiformats/cid'
import { afterEach, describe, expect, it } from 'vitest'
import { type EngineParts, openNode, type VsdbNode } from '../src/node.ts'
import { defaultParts } from '../src/parts.ts'
import { packResumeState, parseResumeState, type ResumeState } from '../src/retention.ts'
import { stubParts } from './stub-parts.ts'

const dirs: string[] = []
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
})

async function home(raw?: RetentionPolicy): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vsdb-retention-'))
  dirs.push(dir)
  await (await initLog({ dir: join(dir, 'node'), raw })).close()
  return join(dir, 'node')
}

const T0 = 1_700_000_000_000
/** Rows [start, start + n) of one entity's stream: one per minute, two dimensions. */
const rowsFrom = (start: number, n: number, entity = 'truck') =>
  Array.from({ length: n }, (_, i) => ({
    entity,
    ts: T0 + (start + i) * 60_000,
    vector: [Number((Math.sin((start + i) / 9) * 10).toFixed(3)), (start + i) % 5],
  }))

/** This node's ingest events with their batch blocks, in log order. */
async function ingests(node: VsdbNode): Promise<{ cid: CID; batch: CID; count: number }[]> {
  const out: { cid: CID; batch: CID; count: number }[] = []
  for await (const { node: author, cid } of node.log.byType('ingest')) {
    if (author !== node.log.node) continue
    const payload = (await node.log.getEvent(cid)).event.payload as PayloadOf<'ingest'>
    out.push({ cid, batch: payload.batch, count: payload.count })
  }
  return out
}

async function held(node: VsdbNode, cids: CID[]): Promise<boolean[]> {
  return Promise.all(cids.map((cid) => node.log.hasBlock(cid)))
}

/** Every segment of this node as recorded: what must not depend on whether raw batches were released. */
function segmentsOf(node: VsdbNode) {
  return node.segments().map(({ cid: _cid, seq: _seq, node: _node, ...rest }) => rest)
}

describe('raw retention: drop-after-seal', () => {
  it('releases exactly the batches whose observations are all sealed: blocks and pins gone, events kept', async () => {
    const node = await openNode({ dir: await home('drop-after-seal'), parts: stubParts() })
    expect(node.retention()).toMatchObject({ policy: 'drop-after-seal', batches: 0 })
    // Five batches of 100 rows: segments seal at 256 observations, so after 500 rows [0, 256) is sealed.
    let last: Awaited<ReturnType<VsdbNode['ingestRows']>> | undefined
    for (let b = 0; b < 5; b++) last = await node.ingestRows(rowsFrom(b * 100, 100))
    const batches = await ingests(node)
    expect(batches.map((b) => b.count)).toEqual([100, 100, 100, 100, 100])
    expect(node.segments().map((s) => s.through)).toEqual([256])
    expect(
      await held(
        node,
        batches.map((b) => b.batch),
      ),
    ).toEqual([false, false, true, true, true])
    expect(node.retention()).toMatchObject({ policy: 'drop-after-seal', releases: 1, batches: 2 })
    expect(node.retention().bytes).toBeGreaterThan(0)
    expect(last?.released).toEqual({ batches: 0, bytes: 0 })

    // Helia no longer lists the released blocks as pinned; the rest (events included) still are.
    const helia = await node.log.helia()
    expect(await helia.pins.isPinned(batches[0]!.batch)).toBe(false)
    expect(await helia.pins.isPinned(batches[1]!.batch)).toBe(false)
    expect(await helia.pins.isPinned(batches[2]!.batch)).toBe(true)
    expect(await helia.pins.isPinned(batches[0]!.cid)).toBe(true)
    const pinned = new Set<string>()
    for await (const pin of helia.pins.ls()) pinned.add(pin.cid.toString())
    expect(pinned.has(batches[0]!.batch.toString())).toBe(false)
    expect(pinned.has(batches[2]!.batch.toString())).toBe(true)

    // The release is an event naming the ingest events, with a resume state of the entity at its last seal.
    const releases = []
    for await (const { cid } of node.log.byType('retention')) releases.push((await node.log.getEvent(cid)).event)
    const release = releases.find((e) => (e.payload as PayloadOf<'retention'>).released.length > 0)
    const payload = release?.payload as PayloadOf<'retention'>
    expect(payload.released.map(String)).toEqual([batches[0]!.cid.toString(), batches[1]!.cid.toString()])
    expect(payload.resume).toMatchObject({ entity: 'truck', through: 256 })
    expect(await node.log.hasBlock(payload.resume!.state)).toBe(true)

    // Three more batches: the next seal (512) covers batches 3..5 ([200, 500)); the release says so.
    const more = await node.ingestRows(rowsFrom(500, 100))
    expect(more.released?.batches).toBe(3)
    expect(
      await held(
        node,
        (await ingests(node)).map((b) => b.batch),
      ),
    ).toEqual([false, false, false, false, false, true])

    const report = await auditLog(node.log)
    expect(report).toMatchObject({ ok: true, released: 5, problems: [] })
    await node.close()
  })

  it('keep releases nothing; switching to drop-after-seal releases what is sealed, and back to keep stops', async () => {
    const node = await openNode({ dir: await home(), parts: stubParts() })
    expect(node.retention().policy).toBe('keep')
    const summary = await node.ingestRows(rowsFrom(0, 600))
    expect(summary.released).toBeUndefined()
    const [batch] = await ingests(node)
    expect(await held(node, [batch!.batch])).toEqual([true])
    expect(await auditLog(node.log)).toMatchObject({ ok: true, released: 0 })

    expect(await node.setRetention('keep')).toEqual({ policy: 'keep', changed: false })
    await node.ingestRows(rowsFrom(600, 100))
    // Switching releases what is sealed now: nothing, as the 600-row batch ends past the last seal (512).
    const set = await node.setRetention('drop-after-seal')
    expect(set).toMatchObject({ policy: 'drop-after-seal', changed: true, released: { batches: 0 } })
    await node.ingestRows(rowsFrom(700, 100)) // seals through 768: the 600-row batch and the 100-row one go
    expect(
      await held(
        node,
        (await ingests(node)).map((b) => b.batch),
      ),
    ).toEqual([false, false, true])
    expect(await node.setRetention('keep')).toMatchObject({ policy: 'keep', changed: true })
    await node.ingestRows(rowsFrom(800, 300))
    expect(
      await held(
        node,
        (await ingests(node)).map((b) => b.batch),
      ),
    ).toEqual([false, false, true, true])
    expect(node.retention()).toMatchObject({ policy: 'keep', releases: 1, batches: 2 })
    await expect(node.setRetention('sometimes' as RetentionPolicy)).rejects.toMatchObject({ code: 'INVALID_INPUT' })

    // The views fold retention events: a replay from zero has the live digest.
    const live = node.digest()
    const replay = createViews()
    for await (const stored of eventsAfter(node.log)) replay.apply(stored)
    expect(stateDigest(replay.state())).toBe(live.digest)
    expect(replay.retention(node.log.node)).toEqual(node.retention())
    expect(node.views.counts().released).toBe(2)
    await node.close()
  })

  it('a release that did not run (the process died after the policy or the ingest was written) runs at the next ingest', async () => {
    const dir = await home()
    let node = await openNode({ dir, parts: stubParts() })
    await node.ingestRows(rowsFrom(0, 300))
    await node.ingestRows(rowsFrom(300, 300))
    await node.close()
    // The policy event alone, as `retention set` leaves it when killed before its release pass.
    const { openLog } = await import('@vsdb/log')
    const log = await openLog({ dir })
    await log.append({ type: 'retention', payload: { policy: 'drop-after-seal', released: [], bytes: 0, resume: null } })
    await log.close()

    node = await openNode({ dir, parts: stubParts() })
    expect(node.retention()).toMatchObject({ policy: 'drop-after-seal', batches: 0 })
    expect(await auditLog(node.log)).toMatchObject({ ok: true, released: 0 })
    const next = await node.ingestRows(rowsFrom(600, 10))
    // Sealed through 512: the first batch (rows 0..300) goes; the second ends at 600 and stays.
    expect(next.released?.batches).toBe(1)
    expect(
      await held(
        node,
        (await ingests(node)).map((b) => b.batch),
      ),
    ).toEqual([false, true, true])
    expect(await auditLog(node.log)).toMatchObject({ ok: true, released: 1 })
    await node.close()
  })

  it('a batch block linked twice goes only when both links are sealed, and never while another node links it', async () => {
    const node = await openNode({ dir: await home('drop-after-seal'), parts: stubParts() })
    const a = rowsFrom(0, 100)
    await node.ingestRows(a) // [0, 100)
    await node.ingestRows(rowsFrom(100, 150)) // [100, 250)
    await node.ingestRows(a) // the same rows again: the same batch block, [250, 350)
    await node.ingestRows(rowsFrom(350, 10)) // seals through 256
    let batches = await ingests(node)
    expect(batches[2]!.batch.equals(batches[0]!.batch)).toBe(true)
    // The first copy is sealed, the second is not: the block stays; the 150-row batch goes.
    expect(
      await held(
        node,
        batches.map((b) => b.batch),
      ),
    ).toEqual([true, false, true, true])
    expect(node.retention().batches).toBe(1)
    await node.ingestRows(rowsFrom(360, 200)) // seals through 512: both copies, then the block goes once
    batches = await ingests(node)
    expect(
      await held(
        node,
        batches.map((b) => b.batch),
      ),
    ).toEqual([false, false, false, false, true])
    expect(node.retention().batches).toBe(4)
    expect(await auditLog(node.log)).toMatchObject({ ok: true, released: 3 })
    // The same rows once more, after the release: the block is back, held and pinned for the new ingest event.
    await node.ingestRows(a)
    batches = await ingests(node)
    expect(await held(node, [batches.at(-1)!.batch])).toEqual([true])
    expect(await (await node.log.helia()).pins.isPinned(batches.at(-1)!.batch)).toBe(true)
    expect(await auditLog(node.log)).toMatchObject({ ok: true, released: 2 }) // the block is present again
    expect((await node.read({ entity: 'truck' })).length).toBe(660)
    await node.close()

    // Another node ingested the same rows: its chain, imported here, links the same block, which therefore stays.
    const { exportCar, importCar } = await import('@vsdb/log')
    const peer = await openNode({ dir: await home(), parts: stubParts() })
    await peer.ingestRows(a)
    const car = await exportCar(peer.log)
    const chunks: Uint8Array[] = []
    for await (const chunk of car.out) chunks.push(chunk)
    await peer.close()
    const mine = await openNode({ dir: await home('drop-after-seal'), parts: stubParts() })
    await importCar(
      mine.log,
      (async function* () {
        yield Buffer.concat(chunks)
      })(),
    )
    await mine.refresh()
    await mine.ingestRows(a)
    await mine.ingestRows(rowsFrom(100, 156)) // [100, 256): sealed with the first
    const own = await ingests(mine)
    expect(mine.segments({ entity: 'truck' }).map((s) => s.through)).toEqual([256])
    expect(
      await held(
        mine,
        own.map((b) => b.batch),
      ),
    ).toEqual([true, false])
    expect(await auditLog(mine.log)).toMatchObject({ ok: true, released: 1 })
    await mine.close()
  })

  it('reads every observation back: sealed ones from their segments, open ones from the held batches', async () => {
    const dir = await home('drop-after-seal')
    let node = await openNode({ dir, parts: stubParts() })
    for (let b = 0; b < 7; b++) await node.ingestRows(rowsFrom(b * 100, 100))
    await node.close()
    node = await openNode({ dir, parts: stubParts() })
    const all = await node.read({ entity: 'truck' })
    // The stub codec is lossless: exactly the rows ingested.
    expect(all).toEqual(rowsFrom(0, 700))
    expect(await node.read({ entity: 'truck', from: T0 + 250 * 60_000, to: T0 + 520 * 60_000 })).toEqual(rowsFrom(250, 271))
    await node.close()
  })

  it('fails the audit for a changed block and for a missing block no retention event released', async () => {
    const dir = await home('drop-after-seal')
    const node = await openNode({ dir, parts: stubParts() })
    for (let b = 0; b < 6; b++) await node.ingestRows(rowsFrom(b * 100, 100))
    const batches = await ingests(node)
    const open = batches.at(-1)!.batch
    const segment = CID.parse(node.segments()[0]!.data)
    await node.close()

    const { ClassicLevel } = await import('classic-level')
    const edit = async (cid: CID, change: (bytes: Uint8Array) => Uint8Array | undefined) => {
      const db = new ClassicLevel<Uint8Array, Uint8Array>(join(dir, 'db'), { keyEncoding: 'view', valueEncoding: 'view' })
      const key = Buffer.concat([Buffer.from('!blocks!'), cid.multihash.bytes])
      const bytes = (await db.get(key)) as Uint8Array
      const changed = change(Uint8Array.from(bytes))
      if (changed === undefined) await db.del(key)
      else await db.put(key, changed)
      await db.close()
      return bytes
    }
    const { openLog } = await import('@vsdb/log')
    const audit = async () => {
      const log = await openLog({ dir })
      try {
        return await auditLog(log)
      } finally {
        await log.close()
      }
    }
    expect(await audit()).toMatchObject({ ok: true, released: 5 })

    const original = await edit(segment, (bytes) => {
      bytes[5] = (bytes[5] as number) ^ 1
      return bytes
    })
    const flipped = await audit()
    expect(flipped.ok).toBe(false)
    expect(flipped.problems[0]).toMatchObject({ code: 'CORRUPT_BLOCK', cid: segment.toString() })
    await edit(segment, () => original)

    await edit(open, () => undefined)
    const missing = await audit()
    expect(missing).toMatchObject({ ok: false, released: 5 })
    expect(missing.problems).toEqual([expect.objectContaining({ code: 'MISSING_BLOCK', cid: open.toString() })])
    expect(missing.problems[0]?.message).toMatch(/no retention event/)
  })
})

/** The same stream ingested in the same batches, with a restart between batches, under a policy. */
async function runStream(
  raw: RetentionPolicy,
  parts: () => EngineParts,
  batches: { entity: string; ts: number; vector: number[] }[][],
  segmenter = {},
): Promise<{ segments: ReturnType<typeof segmentsOf>; released: number; digest: string; node: VsdbNode }> {
  const dir = await home(raw)
  let node = await openNode({ dir, parts: parts(), segmenter })
  for (const [i, batch] of batches.entries()) {
    await node.ingestRows(batch)
    if (i % 2 === 1) {
      await node.close()
      node = await openNode({ dir, parts: parts(), segmenter })
    }
  }
  return { segments: segmentsOf(node), released: node.retention().batches, digest: node.digest().digest, node }
}

describe('raw retention: restarts give the segments a node that kept every batch gives', () => {
  it('with the real model and codecs (state resumed exactly), regime changes, alerts and error bounds included', async () => {
    // nyc_taxi, in 17 uneven batches with a restart after every second one.
    const csv = await readFile(fileURLToPath(new URL('../../data/nab/nyc_taxi.csv', import.meta.url)), 'utf8')
    const rows = csv
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => {
        const [ts, value] = line.split(',')
        return { entity: 'nyc_taxi', ts: Date.parse(`${(ts as string).replace(' ', 'T')}Z`), vector: [Number(value)] }
      })
    const batches: (typeof rows)[] = []
    for (let at = 0, i = 0; at < rows.length; i++) {
      const size = 300 + ((i * 379) % 700)
      batches.push(rows.slice(at, at + size))
      at += size
    }
    const kept = await runStream('keep', () => defaultParts(), batches)
    const dropped = await runStream('drop-after-seal', () => defaultParts(), batches)
    expect(kept.released).toBe(0)
    expect(dropped.released).toBeGreaterThan(10)
    expect(kept.segments.length).toBeGreaterThan(100)
    expect(new Set(kept.segments.map((s) => s.regime)).size).toBeGreaterThan(1)
    expect(kept.segments.some((s) => s.alerts.length > 0)).toBe(true)
    expect(dropped.segments).toEqual(kept.segments)

    // Every observation reads back, sealed ones within their error bound.
    const read = await dropped.node.read({ entity: 'nyc_taxi' })
    expect(read.map((o) => o.ts)).toEqual(rows.map((r) => r.ts))
    const values = rows.map((r) => r.vector[0] as number)
    const bound = 0.01 * (Math.max(...values) - Math.min(...values))
    for (const [i, o] of read.entries()) expect(Math.abs((o.vector[0] as number) - (values[i] as number))).toBeLessThanOrEqual(bound)
    expect(await dropped.node.read({ entity: 'nyc_taxi' })).toEqual(await kept.node.read({ entity: 'nyc_taxi' }))
    expect(await auditLog(dropped.node.log)).toMatchObject({ ok: true, released: dropped.released })
    await kept.node.close()
    await dropped.node.close()
  }, 120_000)

  it('with parts that take no snapshot: the same `through` values (the model restarts fresh at the resume point)', async () => {
    const batches = Array.from({ length: 12 }, (_, b) => [...rowsFrom(b * 70, 70), ...rowsFrom(b * 50, 50, 'van')])
    const change = (ts: number) => (ts - T0) % (333 * 60_000) === 0
    const kept = await runStream('keep', () => stubParts(change), batches)
    const dropped = await runStream('drop-after-seal', () => stubParts(change), batches)
    expect(dropped.released).toBeGreaterThan(5)
    const through = (segments: typeof kept.segments) =>
      segments.map((s) => [s.entity, s.through, s.from, s.to, s.count]).sort((a, b) => String(a).localeCompare(String(b)))
    expect(through(dropped.segments)).toEqual(through(kept.segments))
    expect(await dropped.node.read({ entity: 'van' })).toEqual(rowsFrom(0, 600, 'van'))
    await kept.node.close()
    await dropped.node.close()
  })

  it('with resumable stub parts: segments identical to the kept ones, scores included', async () => {
    const batches = Array.from({ length: 9 }, (_, b) => rowsFrom(b * 130, 130))
    const kept = await runStream('keep', () => stubParts(undefined, { resumable: true }), batches, { maxCount: 100 })
    const dropped = await runStream('drop-after-seal', () => stubParts(undefined, { resumable: true }), batches, { maxCount: 100 })
    expect(dropped.released).toBeGreaterThan(5)
    expect(dropped.segments).toEqual(kept.segments)
    await kept.node.close()
    await dropped.node.close()
  })
})

describe('raw retention: resume state', () => {
  it('round-trips every number exactly through its block (−0 included), and refuses another entity’s or a bad one', () => {
    const state: ResumeState = {
      v: 1,
      entity: 'e',
      through: 256,
      segmenter: {
        entity: 'e',
        dim: 2,
        seen: 257,
        low: [-0, -3.25],
        high: [0.1 + 0.2, 7],
        ts: [T0],
        vectors: [[-0, 1e-300]],
        scores: [0.5],
      },
      parts: { anomaly: { dims: [-0, 1 / 3, 2 ** 60], count: 3 }, regime: { centroids: [[-0.5], []] } },
    }
    const block = encodeBlock(packResumeState(state))
    const back = parseResumeState(dagCbor.decode(block.bytes), block.cid, 'e')
    expect(back).toEqual(state)
    expect(Object.is(back.segmenter.low[0], -0)).toBe(true)
    expect(Object.is(back.segmenter.vectors[0]?.[0], -0)).toBe(true)
    expect(Object.is((back.parts as { anomaly: { dims: number[] } }).anomaly.dims[0], -0)).toBe(true)
    // Plain DAG-CBOR would not have kept it.
    expect(Object.is((dagCbor.decode(dagCbor.encode([-0])) as number[])[0], -0)).toBe(false)
    expect(() => parseResumeState(dagCbor.decode(block.bytes), block.cid, 'other')).toThrow(/another entity/)
    const bad = encodeBlock(packResumeState({ ...state, segmenter: { ...state.segmenter, low: [1] } }))
    expect(() => parseResumeState(dagCbor.decode(bad.bytes), bad.cid, 'e')).toThrow(/inconsistent sizes/)
  })
})

import { CID } from 'multiformats/cid'
import { describe, expect, it } from 'vitest'
import { type Block, RAW, signEvent, type UnsignedEvent } from '../src/codec.ts'
import {
  auditLog,
  cidFor,
  encodeBlock,
  exportCar,
  generateSigner,
  importCar,
  initLog,
  type Log,
  openLog,
  type PayloadOf,
  readRetention,
  type Signer,
  type StoredEvent,
} from '../src/index.ts'
import { carBytes, collect, fromBytes, tempDir, trustPayload } from './helpers.ts'

async function exportBytes(log: Log): Promise<{ bytes: Uint8Array; counts: { blocks: number; events: number; released: number } }> {
  const car = await exportCar(log)
  const chunks = await collect(car.out)
  return { bytes: Buffer.concat(chunks), counts: await car.done }
}

/** Every block of a CAR, by CID text. */
async function carBlocks(bytes: Uint8Array): Promise<Map<string, Block>> {
  const { CarBlockIterator } = await import('@ipld/car')
  const iterator = await CarBlockIterator.fromIterable(fromBytes(bytes))
  const out = new Map<string, Block>()
  for await (const { cid, bytes: data } of iterator) out.set(cid.toString(), { cid: CID.asCID(cid) as CID, bytes: data })
  return out
}

async function fingerprint(log: Log): Promise<string> {
  const chains: string[] = []
  for (const node of await log.nodes()) for await (const { seq, cid } of log.chain(node)) chains.push(`${node}/${seq}/${cid}`)
  return JSON.stringify({ stats: await log.stats(), chains })
}

function batchBlock(entity: string, start: number, count: number): Block {
  const ts = Array.from({ length: count }, (_, i) => 1_700_000_000_000 + (start + i) * 1000)
  return encodeBlock({ entity, ts, vectors: ts.map((_, i) => [start + i]), meta: null })
}

const ingestPayload = (entity: string, start: number, count: number, batch: Block): PayloadOf<'ingest'> => ({
  entity,
  count,
  dim: 1,
  from: 1_700_000_000_000 + start * 1000,
  to: 1_700_000_000_000 + (start + count - 1) * 1000,
  batch: batch.cid,
})

/** A segment of [0, through) (its data a small raw block). */
function segmentOf(entity: string, through: number, count: number): { payload: PayloadOf<'segment'>; block: Block } {
  const bytes = new TextEncoder().encode(`segment ${entity} ${through}`)
  const block = { cid: cidFor(bytes, RAW), bytes }
  return {
    block,
    payload: {
      entity,
      from: 1_700_000_000_000 + (through - count) * 1000,
      to: 1_700_000_000_000 + (through - 1) * 1000,
      count,
      through,
      centroid: [1],
      min: [0],
      max: [2],
      anomaly: 0,
      alerts: [],
      regime: 'r0',
      codec: 'test',
      errorBound: [0],
      data: block.cid,
    },
  }
}

/** A node with three batches of 100 (entity e), a segment sealing [0, 200), and a release of the first two. */
async function releasedStore(): Promise<{ log: Log; ingests: StoredEvent[]; batches: Block[]; release: StoredEvent }> {
  const log = await initLog({ dir: await tempDir(), raw: 'drop-after-seal' })
  const batches = [0, 1, 2].map((i) => batchBlock('e', i * 100, 100))
  const ingests = await log.appendBatch(
    batches.map((batch, i) => ({ type: 'ingest' as const, payload: ingestPayload('e', i * 100, 100, batch), blocks: [batch] })),
  )
  const segment = segmentOf('e', 200, 200)
  await log.append({ type: 'segment', payload: segment.payload, blocks: [segment.block] })
  const state = encodeBlock({ v: 1, entity: 'e', note: 'engine state' })
  const release = await log.append({
    type: 'retention',
    payload: {
      policy: 'drop-after-seal',
      released: [ingests[0]!.cid, ingests[1]!.cid],
      bytes: batches[0]!.bytes.length + batches[1]!.bytes.length,
      resume: { entity: 'e', through: 200, state: state.cid },
    },
    blocks: [state],
  })
  return { log, ingests, batches, release }
}

describe('raw retention in the log', () => {
  it('records the policy given at init right after the genesis', async () => {
    const log = await initLog({ dir: await tempDir(), raw: 'drop-after-seal' })
    expect(log.head()?.seq).toBe(1)
    expect(log.config.genesis).toBe((await log.cidsAt(log.node, 0))[0]?.toString())
    expect(await readRetention(log, log.node)).toMatchObject({ policy: 'drop-after-seal', events: 1 })
    const plain = await initLog({ dir: await tempDir() })
    expect(await readRetention(plain, plain.node)).toMatchObject({ policy: 'keep', events: 0 })
    await log.close()
    await plain.close()
  })

  it('deletes the released batch blocks and their pins in the write of the release event, and nothing else', async () => {
    const { log, batches, ingests, release } = await releasedStore()
    expect(await Promise.all(batches.map((b) => log.hasBlock(b.cid)))).toEqual([false, false, true])
    const helia = await log.helia()
    expect(await helia.pins.isPinned(batches[0]!.cid)).toBe(false)
    expect(await helia.pins.isPinned(batches[2]!.cid)).toBe(true)
    expect(await helia.pins.isPinned(ingests[0]!.cid)).toBe(true)
    expect(await helia.pins.isPinned(release.cid)).toBe(true)
    const stats = await log.stats()
    // manifest, retention, 3 ingests, segment, release = 7 events; blocks: those + 1 batch + segment data + state.
    expect(stats).toMatchObject({ events: 7, blocks: 10, pins: 10 })
    expect(await auditLog(log)).toMatchObject({ ok: true, released: 2, unpinned: 0, problems: [] })
    await log.close()
    const reopened = await openLog({ dir: log.dir })
    expect(await auditLog(reopened)).toMatchObject({ ok: true, released: 2 })
    await reopened.close()
  })

  it('refuses a release of anything but a held ingest batch of this node, naming the field, and writes nothing', async () => {
    const { log, ingests, batches, release } = await releasedStore()
    const trust = await log.append({ type: 'trust', payload: trustPayload(log.node) })
    const before = await fingerprint(log)
    const releasing = (released: CID[], bytes: number) =>
      log.append({ type: 'retention', payload: { policy: 'drop-after-seal', released, bytes, resume: null } })
    await expect(releasing([trust.cid], 10)).rejects.toMatchObject({ code: 'INVALID_EVENT', message: /is a trust event, not an ingest/ })
    await expect(releasing([release.cid], 10)).rejects.toMatchObject({ code: 'INVALID_EVENT', message: /is a retention event/ })
    await expect(releasing([batches[2]!.cid], 10)).rejects.toMatchObject({
      code: 'INVALID_EVENT',
      details: { field: 'payload.released.0' },
    })
    await expect(releasing([ingests[0]!.cid], 10)).rejects.toMatchObject({
      code: 'INVALID_EVENT',
      message: /not held here \(released already/,
    })
    await expect(releasing([ingests[2]!.cid], 1)).rejects.toMatchObject({ code: 'INVALID_EVENT', details: { field: 'payload.bytes' } })
    await expect(
      log.append({ type: 'retention', payload: { policy: 'keep', released: [ingests[2]!.cid], bytes: 1, resume: null } }),
    ).rejects.toMatchObject({ code: 'INVALID_EVENT', message: /only the drop-after-seal policy releases/ })
    await expect(
      log.append({
        type: 'retention',
        payload: { policy: 'drop-after-seal', released: [ingests[2]!.cid, ingests[2]!.cid], bytes: 1, resume: null },
      }),
    ).rejects.toMatchObject({ code: 'INVALID_EVENT', message: /twice/ })

    // Another node's ingest event, held here after an import: never released by this node.
    const other = await generateSigner()
    const foreignBatch = batchBlock('f', 0, 3)
    const [foreign] = chain(other, [{ type: 'ingest', payload: ingestPayload('f', 0, 3, foreignBatch) }])
    await importCar(log, fromBytes(await carBytes([foreign!.cid], [foreign!, foreignBatch])))
    const imported = await fingerprint(log)
    await expect(releasing([foreign!.cid], foreignBatch.bytes.length)).rejects.toMatchObject({
      code: 'INVALID_EVENT',
      message: new RegExp(`is an event of node ${other.node}, not of this node`),
    })
    expect(await fingerprint(log)).toBe(imported)
    expect(imported).not.toBe(before)
    expect(await log.hasBlock(foreignBatch.cid)).toBe(true)
    await log.close()
  })

  it('exports without the released blocks; an import verifies the release and accepts their absence, nothing else', async () => {
    const { log, batches, ingests } = await releasedStore()
    const { bytes, counts } = await exportBytes(log)
    expect(counts).toEqual({ events: 7, blocks: 10, released: 2 })
    const inCar = await carBlocks(bytes)
    expect(inCar.has(batches[0]!.cid.toString())).toBe(false)
    expect(inCar.has(batches[2]!.cid.toString())).toBe(true)

    const b = await initLog({ dir: await tempDir() })
    const result = await importCar(b, fromBytes(bytes))
    expect(result).toMatchObject({ events: 7, newEvents: 7, newBlocks: 10 })
    expect(await auditLog(b)).toMatchObject({ ok: true, released: 2, problems: [] })
    // And b exports a's chain the same way, released blocks left out.
    expect((await exportBytes(b)).counts).toMatchObject({ released: 2 })

    // A CAR without another block (the unreleased batch) is refused, naming it.
    const c = await initLog({ dir: await tempDir() })
    const before = await fingerprint(c)
    const roots = [log.head()!.cid]
    const without = [...inCar.values()].filter((block) => !block.cid.equals(batches[2]!.cid))
    await expect(importCar(c, fromBytes(await carBytes(roots, without)))).rejects.toMatchObject({
      code: 'MISSING_BLOCK',
      details: { cid: batches[2]!.cid.toString(), seq: ingests[2]!.event.seq },
    })
    expect(await fingerprint(c)).toBe(before)
    await log.close()
    await b.close()
    await c.close()
  })

  it('refuses to export a store with a missing block that no retention event released', async () => {
    const log = await initLog({ dir: await tempDir() })
    const batch = batchBlock('e', 0, 2)
    const stored = await log.append({ type: 'ingest', payload: ingestPayload('e', 0, 2, batch), blocks: [batch] })
    await log.close()
    const { ClassicLevel } = await import('classic-level')
    const db = new ClassicLevel<Uint8Array, Uint8Array>(`${log.dir}/db`, { keyEncoding: 'view', valueEncoding: 'view' })
    await db.del(Buffer.concat([Buffer.from('!blocks!'), batch.cid.multihash.bytes]))
    await db.close()
    const reopened = await openLog({ dir: log.dir })
    const car = await exportCar(reopened)
    const drained = collect(car.out)
    await expect(car.done).rejects.toMatchObject({ code: 'MISSING_BLOCK', details: { cid: batch.cid.toString() } })
    await drained
    expect((await auditLog(reopened)).problems[0]).toMatchObject({
      code: 'MISSING_BLOCK',
      cid: batch.cid.toString(),
      seq: stored.event.seq,
    })
    await reopened.close()
  })

  it('audits what a retention event releases: only earlier, sealed ingest events of its own node', async () => {
    const signer = await generateSigner()
    const stranger = await generateSigner()
    const b0 = batchBlock('e', 0, 100)
    const b1 = batchBlock('e', 100, 100)
    const strangerBatch = batchBlock('s', 0, 5)
    const [strangerIngest] = chain(stranger, [{ type: 'ingest', payload: ingestPayload('s', 0, 5, strangerBatch) }])
    const segment = segmentOf('e', 150, 150)
    const events = chain(signer, [
      { type: 'ingest', payload: ingestPayload('e', 0, 100, b0) },
      { type: 'ingest', payload: ingestPayload('e', 100, 100, b1) },
      { type: 'segment', payload: segment.payload },
      { type: 'trust', payload: trustPayload(signer.node) },
    ])
    const release = (released: CID[], seq: number) =>
      chain(
        signer,
        [{ type: 'retention', payload: { policy: 'drop-after-seal', released, bytes: 1, resume: null } }],
        seq,
        events.at(-1)!.cid,
      )
    const cases: [string, CID[], RegExp][] = [
      ['a trust event', [events[3]!.cid], /not an earlier ingest event of node/],
      ['another node’s ingest event', [strangerIngest!.cid], /not an earlier ingest event of node/],
      ['an ingest event not sealed yet (its rows end at 200, sealed through 150)', [events[1]!.cid], /before its observations were sealed/],
    ]
    for (const [_what, released, message] of cases) {
      const log = await initLog({ dir: await tempDir() })
      const [retention] = release(released, 4)
      const blocks = [...events, retention!, b0, b1, segment.block]
      await importCar(log, fromBytes(await carBytes([retention!.cid, strangerIngest!.cid], [...blocks, strangerIngest!, strangerBatch])))
      const report = await auditLog(log)
      expect(report.ok).toBe(false)
      expect(report.problems[0]).toMatchObject({ code: 'INVALID_EVENT', cid: retention!.cid.toString(), node: signer.node, seq: 4 })
      expect(report.problems[0]?.message).toMatch(message)
      await log.close()
    }

    // The sealed one, released and absent: clean, counted as released.
    const log = await initLog({ dir: await tempDir() })
    const [retention] = release([events[0]!.cid], 4)
    await importCar(log, fromBytes(await carBytes([retention!.cid], [...events, retention!, b1, segment.block])))
    expect(await auditLog(log)).toMatchObject({ ok: true, released: 1 })
    expect(await log.hasBlock(b0.cid)).toBe(false)
    // Without the release event the same absence is a problem: an import refuses it.
    const bare = await initLog({ dir: await tempDir() })
    await expect(importCar(bare, fromBytes(await carBytes([events.at(-1)!.cid], [...events, b1, segment.block])))).rejects.toMatchObject({
      code: 'MISSING_BLOCK',
      details: { cid: b0.cid.toString() },
    })
    await log.close()
    await bare.close()
  })
})

/** Signs events into a chain of `signer` from `seq` after `prev`. */
function chain(signer: Signer, events: { type: UnsignedEvent['type']; payload: unknown }[], seq = 0, prev: CID | null = null): Block[] {
  const out: Block[] = []
  for (const [i, { type, payload }] of events.entries()) {
    const unsigned = { v: 1, type, node: signer.node, seq: seq + i, ts: 1_700_000_000_000 + seq + i, prev, payload } as UnsignedEvent
    const { bytes, cid } = signEvent(unsigned, signer.sign)
    out.push({ cid, bytes })
    prev = cid
  }
  return out
}

import type { CID } from 'multiformats/cid'
import { describe, expect, it } from 'vitest'
import { type Block, signEvent, type UnsignedEvent } from '../src/codec.ts'
import { auditLog, encodeBlock, exportCar, generateSigner, importCar, initLog, type Log, type Signer } from '../src/index.ts'
import { carBytes, collect, fromBytes, tempDir, trustPayload } from './helpers.ts'

async function exportBytes(log: Log): Promise<Uint8Array> {
  const car = await exportCar(log)
  const chunks = await collect(car.out)
  await car.done
  return Buffer.concat(chunks)
}

/** A chain signed by a node of our own making, so a test can break it in exactly one way. */
function chainOf(signer: Signer, length: number, tweak: (e: UnsignedEvent, i: number) => UnsignedEvent = (e) => e): Block[] {
  const blocks: Block[] = []
  let prev: CID | null = null
  for (let i = 0; i < length; i++) {
    const unsigned = tweak(
      { v: 1, type: 'trust', node: signer.node, seq: i, ts: 1_700_000_000_000 + i, prev, payload: trustPayload(signer.node, i / length) },
      i,
    )
    const { bytes, cid } = signEvent(unsigned, signer.sign)
    blocks.push({ cid, bytes })
    prev = cid
  }
  return blocks
}

/** Everything the store holds, by node and seq, plus its counts: equal before and after means nothing was written. */
async function fingerprint(log: Log): Promise<string> {
  const chains: string[] = []
  for (const node of await log.nodes()) for await (const { seq, cid } of log.chain(node)) chains.push(`${node}/${seq}/${cid}`)
  return JSON.stringify({ stats: await log.stats(), chains })
}

describe('CAR export and import', () => {
  it('round-trips every chain and block between two data dirs; a second import changes nothing', async () => {
    const a = await initLog({ dir: await tempDir() })
    const block = encodeBlock({ ts: [1, 2], vectors: [[1.5], [2.5]] })
    await a.append({ type: 'ingest', payload: { entity: 'x', count: 2, dim: 1, from: 1, to: 2, batch: block.cid }, blocks: [block] })
    await a.appendBatch(Array.from({ length: 300 }, () => ({ type: 'trust' as const, payload: trustPayload(a.node) })))
    const car = await exportBytes(a)

    const b = await initLog({ dir: await tempDir() })
    const first = await importCar(b, fromBytes(car))
    expect(first).toMatchObject({ roots: 1, events: 302, newEvents: 302, newBlocks: 303, forks: 0 })
    expect((await collect(b.chain(a.node))).map((e) => e.cid.toString())).toEqual(
      (await collect(a.chain(a.node))).map((e) => e.cid.toString()),
    )
    expect(Buffer.from(await b.getBlock(block.cid)).equals(block.bytes)).toBe(true)
    expect(await (await b.helia()).pins.isPinned(block.cid)).toBe(true)
    const before = await fingerprint(b)
    expect(await importCar(b, fromBytes(car))).toMatchObject({ newEvents: 0, newBlocks: 0 })
    expect(await fingerprint(b)).toBe(before)
    expect((await auditLog(b)).ok).toBe(true)

    // Exporting b gives both chains; a imports b's genesis back and nothing else changes.
    const back = await importCar(a, fromBytes(await exportBytes(b)))
    expect(back).toMatchObject({ roots: 2, newEvents: 1 })
    await a.close()
    await b.close()
  })

  it('refuses a CAR with a flipped byte, naming the block, and writes nothing', async () => {
    const a = await initLog({ dir: await tempDir() })
    await a.appendBatch(Array.from({ length: 20 }, () => ({ type: 'trust' as const, payload: trustPayload(a.node) })))
    const car = Buffer.from(await exportBytes(a))
    const [victim] = await a.cidsAt(a.node, 7)
    const { bytes } = { bytes: await a.getBlock(victim as CID) }
    const at = car.indexOf(Buffer.from(bytes)) + 40
    car[at] = (car[at] as number) ^ 0x20
    const b = await initLog({ dir: await tempDir() })
    const before = await fingerprint(b)
    await expect(importCar(b, fromBytes(car))).rejects.toMatchObject({ code: 'CORRUPT_BLOCK', details: { cid: victim?.toString() } })
    expect(await fingerprint(b)).toBe(before)
    await a.close()
    await b.close()
  })

  it.each([
    ['empty', new Uint8Array()],
    ['garbage', new TextEncoder().encode('this is not a CAR file at all')],
  ])('refuses a %s file as BAD_CAR', async (_name, bytes) => {
    const b = await initLog({ dir: await tempDir() })
    const before = await fingerprint(b)
    await expect(importCar(b, fromBytes(bytes))).rejects.toMatchObject({ code: 'BAD_CAR' })
    expect(await fingerprint(b)).toBe(before)
    await b.close()
  })

  it('refuses a truncated CAR', async () => {
    const a = await initLog({ dir: await tempDir() })
    await a.appendBatch(Array.from({ length: 20 }, () => ({ type: 'trust' as const, payload: trustPayload(a.node) })))
    const car = await exportBytes(a)
    const b = await initLog({ dir: await tempDir() })
    const before = await fingerprint(b)
    for (const cut of [car.length - 1, Math.floor(car.length / 2), 30]) {
      await expect(importCar(b, fromBytes(car.subarray(0, cut)))).rejects.toMatchObject({
        code: expect.stringMatching(/BAD_CAR|MISSING_BLOCK/),
      })
    }
    expect(await fingerprint(b)).toBe(before)
    await a.close()
    await b.close()
  })

  it('refuses a wrong signature, a seq gap and a missing linked block, naming each', async () => {
    const signer = await generateSigner()
    const other = await generateSigner()
    const b = await initLog({ dir: await tempDir() })
    const before = await fingerprint(b)

    // Signed by another key than the one `node` names.
    const forged = chainOf(signer, 5)
    const resigned = signEvent(
      { v: 1, type: 'trust', node: signer.node, seq: 0, ts: 1, prev: null, payload: trustPayload(signer.node) },
      other.sign,
    )
    await expect(importCar(b, fromBytes(await carBytes([resigned.cid], [resigned])))).rejects.toMatchObject({
      code: 'BAD_SIGNATURE',
      details: { cid: resigned.cid.toString() },
    })

    // seq jumps from 2 to 4 while prev still links the previous event.
    const gap = chainOf(signer, 5, (e, i) => (i >= 3 ? { ...e, seq: e.seq + 1 } : e))
    await expect(importCar(b, fromBytes(await carBytes([gap.at(-1)!.cid], gap)))).rejects.toMatchObject({
      code: 'BROKEN_CHAIN',
      details: { seq: 4 },
    })

    // An ingest event whose observation block is not in the CAR.
    const batch = encodeBlock({ ts: [1], vectors: [[1]] })
    const ingest = signEvent(
      {
        v: 1,
        type: 'ingest',
        node: signer.node,
        seq: 0,
        ts: 1,
        prev: null,
        payload: { entity: 'e', count: 1, dim: 1, from: 1, to: 1, batch: batch.cid },
      },
      signer.sign,
    )
    await expect(importCar(b, fromBytes(await carBytes([ingest.cid], [ingest])))).rejects.toMatchObject({
      code: 'MISSING_BLOCK',
      details: { cid: batch.cid.toString() },
    })

    // A chain whose middle event is missing.
    await expect(
      importCar(
        b,
        fromBytes(
          await carBytes(
            [forged.at(-1)!.cid],
            forged.filter((_, i) => i !== 2),
          ),
        ),
      ),
    ).rejects.toMatchObject({ code: 'MISSING_BLOCK', details: { cid: forged[2]?.cid.toString() } })

    expect(await fingerprint(b)).toBe(before)
    expect((await auditLog(b)).ok).toBe(true)
    await b.close()
  })

  it('keeps both sides of a fork and records one conflict event naming both', async () => {
    const signer = await generateSigner()
    const trunk = chainOf(signer, 4)
    const branch = chainOf(signer, 4, (e, i) => (i === 3 ? { ...e, payload: trustPayload(signer.node, 0.99) } : e))
    expect(branch[3]?.cid.equals(trunk[3]!.cid)).toBe(false)
    const b = await initLog({ dir: await tempDir() })
    await importCar(b, fromBytes(await carBytes([trunk[3]!.cid], trunk)))
    const result = await importCar(b, fromBytes(await carBytes([branch[3]!.cid], branch)))
    expect(result).toMatchObject({ newEvents: 1, forks: 1 })
    const held = (await b.cidsAt(signer.node, 3)).map(String).sort()
    expect(held).toEqual([trunk[3]!.cid.toString(), branch[3]!.cid.toString()].sort())
    const conflicts = await collect(b.byType('conflict'))
    expect(conflicts).toHaveLength(1)
    const { event } = await b.getEvent(conflicts[0]!.cid)
    expect(event.node).toBe(b.node)
    expect(event.payload).toMatchObject({ kind: 'fork', node: signer.node, seq: 3 })
    expect((event.payload as { cids: CID[] }).cids.map(String).sort()).toEqual(held)
    const report = await auditLog(b)
    expect(report).toMatchObject({ ok: true, forks: 1 })
    // Both tips are roots of an export, so neither side is lost downstream.
    const exported = await exportCar(b)
    await collect(exported.out)
    expect(exported.roots.map(String)).toEqual(expect.arrayContaining(held))
    await b.close()
  })
})

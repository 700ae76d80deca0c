import { readdir, stat, writeFile } from 'node:fs/promises'
import { AbstractChainedBatch } from 'abstract-level'
import { CID } from 'multiformats/cid'
import { describe, expect, it, vi } from 'vitest'
import { auditLog, encodeBlock, initLog, openLog, rawBlock, type StoredEvent } from '../src/index.ts'
import { collect, tempDir, trustPayload } from './helpers.ts'

describe('log', () => {
  it('initialises a node with a 0600 key and a genesis manifest, and reopens it', async () => {
    const dir = await tempDir()
    const log = await initLog({ dir, role: 'coordinator', cluster: 'fleet-1' })
    const genesis = log.head()
    expect(genesis?.seq).toBe(0)
    expect(log.config).toMatchObject({ role: 'coordinator', cluster: 'fleet-1', node: log.node, genesis: genesis?.cid.toString() })
    expect((await stat(log.paths.key)).mode & 0o777).toBe(0o600)
    const first = await log.getEvent(genesis!.cid)
    expect(first.event).toMatchObject({ v: 1, type: 'manifest', seq: 0, prev: null, node: log.node })
    await log.close()

    await expect(initLog({ dir })).rejects.toMatchObject({ code: 'ALREADY_INITIALIZED' })
    const again = await openLog({ dir })
    expect(again.head()?.cid.equals(genesis!.cid)).toBe(true)
    await again.close()
  })

  it('chains appends by seq and prev, concurrent or not, and keeps them across a reopen', async () => {
    const dir = await tempDir()
    const log = await initLog({ dir })
    const one = await log.append({ type: 'trust', payload: trustPayload(log.node) })
    const many = await Promise.all(
      Array.from({ length: 300 }, (_, i) => log.append({ type: 'trust', payload: trustPayload(log.node, i / 300) })),
    )
    const batch = await log.appendBatch(Array.from({ length: 50 }, () => ({ type: 'trust' as const, payload: trustPayload(log.node) })))
    const all = [one, ...many, ...batch]
    all.forEach((stored, i) => {
      expect(stored.event.seq).toBe(i + 1)
      expect(stored.event.prev?.toString()).toBe(i === 0 ? log.config.genesis : all[i - 1]?.cid.toString())
    })
    // Callers get their own event back: payloads are not mixed up by group commit.
    for (const [i, stored] of many.entries()) expect(stored.event.payload).toMatchObject({ score: i / 300 })
    await log.close()

    const reopened = await openLog({ dir })
    expect(reopened.head()?.seq).toBe(351)
    const chain = await collect(reopened.chain(reopened.node))
    expect(chain.map((e) => e.seq)).toEqual(Array.from({ length: 352 }, (_, i) => i))
    expect(chain.at(-1)?.cid.equals(batch.at(-1)!.cid)).toBe(true)
    const next = await reopened.append({ type: 'trust', payload: trustPayload(reopened.node) })
    expect(next.event.prev?.equals(batch.at(-1)!.cid)).toBe(true)
    await reopened.close()
  })

  it('rejects every append chained onto a failed write, then chains on from the last written event', async () => {
    const dir = await tempDir()
    await (await initLog({ dir })).close()
    // Groups of at most 50, so that the 400 appends below take a third write however fast the worker signs them.
    const log = await openLog({ dir, maxGroup: 50 })
    // A batch large enough to start the signing worker, so the failure also meets slices signed in it.
    const [before] = (
      await log.appendBatch(Array.from({ length: 64 }, () => ({ type: 'trust' as const, payload: trustPayload(log.node) })))
    ).slice(-1)
    await new Promise((resolve) => setTimeout(resolve, 300))
    const original = AbstractChainedBatch.prototype.write
    let writes = 0
    const write = vi.spyOn(AbstractChainedBatch.prototype, 'write').mockImplementation(function (
      this: AbstractChainedBatch<never, never, never>,
      options,
    ) {
      return ++writes === 3 ? Promise.reject(new Error('disk full')) : original.call(this, options)
    })
    const settled = await Promise.allSettled(
      Array.from({ length: 400 }, (_, i) => log.append({ type: 'trust', payload: trustPayload(log.node, i / 400) })),
    )
    write.mockRestore()
    const failed = settled.filter((r) => r.status === 'rejected')
    expect(failed.length).toBeGreaterThan(0)
    for (const r of failed) expect(r.reason).toMatchObject({ code: 'WRITE_FAILED' })
    const written = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value as StoredEvent] : []))
    let prev = before as StoredEvent
    for (const stored of written.sort((a, b) => a.event.seq - b.event.seq)) {
      expect(stored.event.seq).toBe(prev.event.seq + 1)
      expect(stored.event.prev?.equals(prev.cid)).toBe(true)
      prev = stored
    }
    const next = await log.append({ type: 'trust', payload: trustPayload(log.node) })
    expect(next.event.prev?.equals(prev.cid)).toBe(true)
    await log.close()

    const reopened = await openLog({ dir })
    expect(reopened.head()?.cid.equals(next.cid)).toBe(true)
    expect(await auditLog(reopened)).toMatchObject({ ok: true, events: next.event.seq + 1 })
    await reopened.close()
  })

  it('refuses a linked block that is not bytes under their own CID, writes nothing, and chains on cleanly', async () => {
    const dir = await tempDir()
    const log = await initLog({ dir })
    const good = encodeBlock({ rows: [1, 2, 3] })
    const other = encodeBlock({ rows: [4] })
    const ingest = (blocks: unknown[]) => ({ type: 'trust' as const, payload: trustPayload(log.node), blocks: blocks as never })
    const before = await log.stats()
    // Blocks this process made are not hashed again when appended, unless a field was changed since.
    const swappedBytes = encodeBlock({ rows: [5] })
    swappedBytes.bytes = other.bytes
    const swappedCid = rawBlock(Uint8Array.of(1, 2))
    swappedCid.cid = other.cid
    const editedCopy = { ...encodeBlock({ rows: [6] }) }
    editedCopy.bytes = good.bytes
    const cases: [unknown[], number][] = [
      [[good, { cid: undefined, bytes: good.bytes }], 1],
      [[{ cid: good.cid, bytes: 'not bytes' }], 0],
      [[good, { cid: other.cid, bytes: good.bytes }], 1],
      [[swappedBytes], 0],
      [[good, swappedCid], 1],
      [[editedCopy], 0],
    ]
    for (const [blocks, bad] of cases) {
      const refused = log.appendBatch([{ type: 'trust', payload: trustPayload(log.node) }, ingest(blocks)])
      await expect(refused).rejects.toMatchObject({ code: 'INVALID_EVENT', details: { field: `blocks.${bad}` } })
    }
    expect(await log.stats()).toEqual(before)
    const next = await log.append(ingest([good]))
    expect(next.event.seq).toBe(1)
    await log.close()
    const reopened = await openLog({ dir })
    expect(await auditLog(reopened)).toMatchObject({ ok: true, events: 2 })
    await reopened.close()
  })

  it('refuses a bad payload naming the field, and writes nothing of its batch', async () => {
    const log = await initLog({ dir: await tempDir() })
    const before = await log.stats()
    const bad = log.appendBatch([
      { type: 'trust', payload: trustPayload(log.node) },
      { type: 'trust', payload: { ...trustPayload(log.node), score: 2 } },
    ])
    await expect(bad).rejects.toMatchObject({ code: 'INVALID_EVENT', details: { field: 'payload.score' } })
    for (const type of ['nope', 'constructor', '__proto__']) {
      await expect(log.append({ type: type as 'trust', payload: trustPayload(log.node) })).rejects.toMatchObject({
        code: 'INVALID_EVENT',
        details: { field: 'type' },
      })
    }
    for (const ts of [1.5, Number.NaN, 2 ** 53]) {
      await expect(log.append({ type: 'trust', payload: trustPayload(log.node), ts })).rejects.toMatchObject({
        code: 'INVALID_EVENT',
        details: { field: 'ts' },
      })
    }
    expect(await log.stats()).toEqual(before)
    expect(log.head()?.seq).toBe(0)
    await log.close()
  })

  it('head() is the last event written: never one still being signed or written, always one a reader can fetch', async () => {
    const log = await initLog({ dir: await tempDir() })
    let acknowledged = 0
    let settled = 0
    const appends = Array.from({ length: 300 }, () =>
      log.append({ type: 'trust', payload: trustPayload(log.node) }).then((stored) => {
        acknowledged = Math.max(acknowledged, stored.event.seq)
        settled++
      }),
    )
    const seen = new Set<number>()
    while (settled < appends.length) {
      const head = log.head()
      expect(head?.seq).toBeLessThanOrEqual(acknowledged)
      seen.add(head?.seq as number)
      expect((await log.getEvent(head?.cid as CID)).event.seq).toBe(head?.seq)
      await new Promise((resolve) => setImmediate(resolve))
    }
    await Promise.all(appends)
    expect(seen.size).toBeGreaterThan(1)
    expect(log.head()?.seq).toBe(300)
    await log.close()
  })

  it('stores linked blocks with their event, once per content, and verifies reads', async () => {
    const log = await initLog({ dir: await tempDir() })
    const block = encodeBlock({ ts: [1, 2], vectors: [[1], [2]] })
    const payload = { entity: 'e', count: 2, dim: 1, from: 1, to: 2, batch: block.cid }
    await log.append({ type: 'ingest', payload, blocks: [block] })
    await log.append({ type: 'ingest', payload, blocks: [block] })
    const stats = await log.stats()
    expect(stats.events).toBe(3)
    expect(stats.blocks).toBe(4) // three events, one shared batch block
    expect(Buffer.from(await log.getBlock(block.cid)).equals(block.bytes)).toBe(true)
    await expect(log.getBlock(encodeBlock({ other: true }).cid)).rejects.toMatchObject({ code: 'NOT_FOUND' })
    const types = await collect(log.byType('ingest'))
    expect(types).toHaveLength(2)
    await log.close()
  })

  it('pins every event and linked block in Helia, which sees them as its own pins', async () => {
    const log = await initLog({ dir: await tempDir() })
    const block = encodeBlock({ observations: [1, 2, 3] })
    const stored = await log.append({
      type: 'ingest',
      payload: { entity: 'e', count: 3, dim: 1, from: 1, to: 3, batch: block.cid },
      blocks: [block],
    })
    const helia = await log.helia()
    expect(await helia.pins.isPinned(stored.cid)).toBe(true)
    expect(await helia.pins.isPinned(block.cid)).toBe(true)
    expect(await helia.pins.isPinned(CID.parse(log.config.genesis))).toBe(true)
    const pins = await collect(helia.pins.ls())
    expect(pins.map((p) => p.cid.toString()).sort()).toEqual([log.config.genesis, stored.cid.toString(), block.cid.toString()].sort())
    expect(pins.every((p) => p.depth === 0)).toBe(true)
    const pin = await helia.pins.get(stored.cid)
    expect(pin.depth).toBe(0)
    // Helia reads the blocks through the log's blockstore, so one copy serves both.
    const fromHelia = await collect(helia.blockstore.get(block.cid))
    expect(Buffer.concat(fromHelia).equals(block.bytes)).toBe(true)
    // Garbage collection removes only unpinned blocks: every block is pinned, so nothing goes.
    await helia.gc()
    expect((await log.stats()).blocks).toBe(3)
    await log.close()
  })

  it('says when a data directory is from a newer version, or is not one', async () => {
    const dir = await tempDir()
    const log = await initLog({ dir })
    await log.close()
    const config = JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(log.paths.config, 'utf8')))
    await writeFile(log.paths.config, JSON.stringify({ ...config, format: 2 }))
    await expect(openLog({ dir })).rejects.toMatchObject({ code: 'VERSION_TOO_NEW' })
    // The store, opened beside the config's check, is closed again and its owner file gone: the next open may go on.
    await expect(stat(log.paths.owner)).rejects.toMatchObject({ code: 'ENOENT' })
    await writeFile(log.paths.config, JSON.stringify({ ...config, node: `${config.node}x` }))
    await expect(openLog({ dir })).rejects.toMatchObject({ code: 'INVALID_INPUT', details: { field: 'node' } })
    await writeFile(log.paths.config, JSON.stringify(config))
    await (await openLog({ dir })).close()

    // Nothing is created in a directory that is not one.
    const empty = await tempDir()
    await expect(openLog({ dir: empty })).rejects.toMatchObject({ code: 'NOT_INITIALIZED' })
    expect(await readdir(empty)).toEqual([])
  })

  it('refuses a second open of the same directory as in use', async () => {
    const dir = await tempDir()
    const log = await initLog({ dir })
    await expect(openLog({ dir })).rejects.toMatchObject({ code: 'IN_USE' })
    await log.close()
    const again = await openLog({ dir })
    await again.close()
  })
})

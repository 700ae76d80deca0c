import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import type { CID } from 'multiformats/cid'
import { describe, expect, it } from 'vitest'
import { auditLog, encodeBlock, initLog, type Log, openLog } from '../src/index.ts'
import { tempDir, trustPayload } from './helpers.ts'

async function filledLog(dir: string, events = 40): Promise<{ log: Log; linked: CID }> {
  const log = await initLog({ dir })
  const block = encodeBlock({ ts: [1, 2, 3], vectors: [[0.5], [0.25], [0.125]] })
  await log.append({ type: 'ingest', payload: { entity: 'e', count: 3, dim: 1, from: 1, to: 3, batch: block.cid }, blocks: [block] })
  await log.appendBatch(Array.from({ length: events }, (_, i) => ({ type: 'trust' as const, payload: trustPayload(log.node, i / events) })))
  return { log, linked: block.cid }
}

/** Rewrites one stored block through Level itself, as any tool with access to the files could. */
async function tamper(dir: string, cid: CID, change: (bytes: Uint8Array) => Uint8Array | undefined): Promise<void> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(join(dir, 'db'), { keyEncoding: 'view', valueEncoding: 'view' })
  const key = Buffer.concat([Buffer.from('!blocks!'), cid.multihash.bytes])
  const bytes = await db.get(key)
  if (bytes === undefined) throw new Error(`no block ${cid}`)
  const changed = change(Uint8Array.from(bytes))
  if (changed === undefined) await db.del(key)
  else await db.put(key, changed)
  await db.close()
}

describe('audit', () => {
  it('passes a clean store with counts', async () => {
    const { log } = await filledLog(await tempDir())
    const report = await auditLog(log, { workers: 2 })
    expect(report).toMatchObject({ ok: true, nodes: 1, events: 42, linkedBlocks: 1, forks: 0, unpinned: 0, problems: [] })
    await log.close()
  })

  it('names the CID, node and seq of an event whose bytes changed on disk, wherever the byte is', async () => {
    const dir = await tempDir()
    const { log } = await filledLog(dir)
    const victims = [5, 17, 41].map(async (seq) => (await log.cidsAt(log.node, seq))[0] as CID)
    const cids = await Promise.all(victims)
    const node = log.node
    await log.close()
    for (const [i, cid] of cids.entries()) {
      let original: Uint8Array = new Uint8Array()
      await tamper(dir, cid, (bytes) => {
        original = Uint8Array.from(bytes)
        const at = (i * 97) % bytes.length
        bytes[at] = (bytes[at] as number) ^ 0x01
        return bytes
      })
      const reopened = await openLog({ dir })
      const report = await auditLog(reopened)
      expect(report.ok).toBe(false)
      expect(report.problems[0]).toMatchObject({ code: 'CORRUPT_BLOCK', cid: cid.toString(), node, seq: [5, 17, 41][i] })
      await reopened.close()
      await tamper(dir, cid, () => original)
    }
    const restored = await openLog({ dir })
    expect((await auditLog(restored)).ok).toBe(true)
    await restored.close()
  })

  it('reports a changed or missing linked block', async () => {
    const dir = await tempDir()
    const { log, linked } = await filledLog(dir)
    await log.close()
    await tamper(dir, linked, (bytes) => {
      bytes[3] = (bytes[3] as number) ^ 0xff
      return bytes
    })
    let reopened = await openLog({ dir })
    expect((await auditLog(reopened)).problems[0]).toMatchObject({ code: 'CORRUPT_BLOCK', cid: linked.toString(), seq: 1 })
    await reopened.close()
    await tamper(dir, linked, () => undefined)
    reopened = await openLog({ dir })
    expect((await auditLog(reopened)).problems[0]).toMatchObject({ code: 'MISSING_BLOCK', cid: linked.toString(), seq: 1 })
    await reopened.close()
  })

  it('reports a missing event block by CID, node and seq; the chain after it still links by CID', async () => {
    const dir = await tempDir()
    const { log } = await filledLog(dir)
    const [cid] = await log.cidsAt(log.node, 10)
    await log.close()
    await tamper(dir, cid as CID, () => undefined)
    const reopened = await openLog({ dir })
    const report = await auditLog(reopened)
    expect(report.problems).toEqual([
      expect.objectContaining({ code: 'MISSING_BLOCK', seq: 10, cid: cid?.toString(), node: reopened.node }),
    ])
    await reopened.close()
  })
})

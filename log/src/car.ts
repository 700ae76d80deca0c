import { CarBlockIterator, CarWriter } from '@ipld/car'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { createCheckPool } from './check-pool.ts'
import { type Block, bytesMatchCid, payloadLinks } from './codec.ts'
import { isVsdbError, VsdbError } from './errors.ts'
import type { EventSummary } from './event-check.ts'
import type { AppendInput, Log, StoredEvent } from './log.ts'
import { type NodeRetention, readRetention } from './retention.ts'

export interface CarExport {
  roots: CID[]
  /** CARv1 bytes: the header, then every chain genesis-first with each event's linked blocks after it. */
  out: AsyncIterable<Uint8Array>
  /** `released`: raw batch blocks not in the CAR because their node's retention policy released them. */
  done: Promise<{ blocks: number; events: number; released: number }>
}

/**
 * The roots of an export: every chain's tips, from which every block is reachable. A tip is an event no other
 * event names as `prev`; without forks that is just the last seq, so only seqs holding several events (and
 * the seq after them) need decoding.
 */
async function exportRoots(log: Log): Promise<CID[]> {
  const roots: CID[] = []
  for (const node of await log.nodes()) {
    const bySeq = new Map<number, CID[]>()
    let last = -1
    for await (const { seq, cid } of log.chain(node)) {
      const held = bySeq.get(seq)
      if (held === undefined) bySeq.set(seq, [cid])
      else held.push(cid)
      last = seq
    }
    for (const [seq, cids] of bySeq) {
      if (seq === last) {
        roots.push(...cids)
        continue
      }
      if (cids.length === 1) continue
      const named = new Set<string>()
      for (const next of bySeq.get(seq + 1) ?? []) named.add(String((await log.getEvent(next)).event.prev))
      roots.push(...cids.filter((cid) => !named.has(cid.toString())))
    }
  }
  return roots
}

export async function exportCar(log: Log): Promise<CarExport> {
  const roots = await exportRoots(log)
  const { writer, out } = CarWriter.create(roots)
  const done = (async () => {
    // Every block once, events included (an event may also be linked from another's payload).
    const written = new Set<string>()
    let events = 0
    let released = 0
    try {
      for (const node of await log.nodes()) {
        let retention: NodeRetention | null = null
        for await (const { cid } of log.chain(node)) {
          const bytes = await log.getBlock(cid)
          if (!written.has(cid.toString())) {
            written.add(cid.toString())
            await writer.put({ cid, bytes })
          }
          events++
          const { type, payload } = dagCbor.decode(bytes) as { type: string; payload: { batch?: unknown } }
          for (const link of payloadLinks(payload)) {
            const key = link.toString()
            if (written.has(key)) continue
            if (!(await log.hasBlock(link))) {
              // A raw batch released by its node's retention policy is left out; any other missing block is an error.
              retention ??= await readRetention(log, node)
              if (type === 'ingest' && CID.asCID(payload.batch)?.equals(link) && retention.released.has(cid.toString())) {
                released++
                continue
              }
              throw new VsdbError('MISSING_BLOCK', `block ${link} linked from event ${cid} (node ${node}) is missing: run vsdb audit`, {
                cid: key,
                node,
              })
            }
            written.add(key)
            await writer.put({ cid: link, bytes: await log.getBlock(link) })
          }
        }
      }
    } finally {
      await writer.close()
    }
    return { blocks: written.size, events, released }
  })()
  return { roots, out, done }
}

export interface ImportResult {
  roots: number
  events: number
  newEvents: number
  newBlocks: number
  forks: number
  conflicts: string[]
}

async function readCar(source: AsyncIterable<Uint8Array>): Promise<{ roots: CID[]; blocks: Map<string, Block> }> {
  const blocks = new Map<string, Block>()
  let roots: CID[]
  try {
    const iterator = await CarBlockIterator.fromIterable(source)
    roots = await iterator.getRoots()
    for await (const { cid, bytes } of iterator) {
      const block = { cid: CID.asCID(cid) ?? CID.decode(cid.bytes), bytes }
      if (!bytesMatchCid(block.cid, bytes)) {
        throw new VsdbError('CORRUPT_BLOCK', `CAR block ${block.cid} does not match its hash`, { cid: block.cid.toString() })
      }
      blocks.set(block.cid.toString(), block)
    }
  } catch (err) {
    if (isVsdbError(err)) throw err
    throw new VsdbError('BAD_CAR', `not a readable CARv1 file: ${(err as Error).message}`, {}, { cause: err })
  }
  if (roots.length === 0) throw new VsdbError('BAD_CAR', 'the CAR has no roots')
  return { roots: roots.map((r) => CID.asCID(r) ?? CID.decode(r.bytes)), blocks }
}

/**
 * Imports a CAR of chains: every block's hash, every event's signature and schema, seq contiguity, `prev`
 * links and linked blocks are verified before anything is written; then all of it lands in one batch. A raw
 * batch block its node's retention events released may be absent (the CAR of such a node has no copy).
 * A second event at a seq already held for that node is a fork: both are kept and a `conflict` is recorded.
 */
export async function importCar(log: Log, source: AsyncIterable<Uint8Array>): Promise<ImportResult> {
  const { roots, blocks } = await readCar(source)
  const eventCids = new Set<string>()
  const walk: string[] = roots.map(String)
  const summaries = new Map<string, EventSummary>()
  const pool = createCheckPool()
  try {
    // Walk back from every root through `prev` until a genesis or an event this store already holds.
    while (walk.length > 0) {
      const batch = walk.splice(0, walk.length).filter((cid) => !eventCids.has(cid))
      const fresh: string[] = []
      for (const cid of batch) {
        eventCids.add(cid)
        if (!blocks.has(cid)) {
          if (await log.hasBlock(CID.parse(cid))) continue
          throw new VsdbError('MISSING_BLOCK', `event ${cid} is named by the CAR but is neither in it nor held here`, { cid })
        }
        fresh.push(cid)
      }
      const checks = await pool.check(
        fresh,
        fresh.map((cid) => (blocks.get(cid) as Block).bytes),
      )
      for (const check of checks) {
        if (!check.ok) {
          throw new VsdbError(check.code, check.message, { cid: check.cid, node: check.node, seq: check.seq })
        }
        summaries.set(check.cid, check)
        if (check.prev !== null) walk.push(check.prev)
      }
    }
  } finally {
    await pool.close()
  }

  // Raw retention: an ingest event's batch block may be absent when a later retention event of the same node
  // (verified above like every event, or held here) released it. Nothing else may be missing.
  const releasedIn = new Map<string, Map<string, number>>()
  for (const summary of summaries.values()) {
    if (summary.facts?.type !== 'retention') continue
    const byNode = releasedIn.get(summary.node) ?? new Map<string, number>()
    releasedIn.set(summary.node, byNode)
    for (const cid of summary.facts.released) byNode.set(cid, Math.min(byNode.get(cid) ?? summary.seq, summary.seq))
  }
  const heldRetention = new Map<string, NodeRetention>()
  const releasedBatch = async (summary: EventSummary, link: string): Promise<boolean> => {
    if (summary.facts?.type !== 'ingest' || summary.facts.batch !== link) return false
    let held = heldRetention.get(summary.node)
    if (held === undefined) {
      held = await readRetention(log, summary.node)
      heldRetention.set(summary.node, held)
    }
    const at = releasedIn.get(summary.node)?.get(summary.cid) ?? held.released.get(summary.cid)
    return at !== undefined && at > summary.seq
  }

  const byPosition = new Map<string, string[]>()
  for (const summary of summaries.values()) {
    if (summary.prev === null && summary.seq !== 0) {
      throw chainError(summary, `has no prev but seq ${summary.seq}`)
    }
    if (summary.prev !== null) {
      const prev = summaries.get(summary.prev) ?? (await heldSummary(log, summary.prev))
      if (prev.node !== summary.node) throw chainError(summary, `links prev ${summary.prev} of another node ${prev.node}`)
      if (prev.seq !== summary.seq - 1) {
        throw chainError(summary, `follows seq ${prev.seq}: a seq gap (expected ${summary.seq - 1})`)
      }
    }
    for (const link of summary.links) {
      if (!blocks.has(link) && !(await log.hasBlock(CID.parse(link)))) {
        if (await releasedBatch(summary, link)) continue
        throw new VsdbError(
          'MISSING_BLOCK',
          `block ${link} linked from event ${summary.cid} (node ${summary.node}, seq ${summary.seq}) is missing`,
          {
            cid: link,
            node: summary.node,
            seq: summary.seq,
          },
        )
      }
    }
    const position = `${summary.node}#${summary.seq}`
    byPosition.set(position, [...(byPosition.get(position) ?? []), summary.cid])
  }

  const foreign: StoredEvent[] = []
  const conflicts: AppendInput[] = []
  for (const summary of summaries.values()) {
    const cid = CID.parse(summary.cid)
    if (await log.hasBlock(cid)) continue
    if (summary.node === log.node) {
      throw new VsdbError(
        'BROKEN_CHAIN',
        `event ${summary.cid} claims this node's key at seq ${summary.seq} but this store never wrote it`,
        {
          cid: summary.cid,
          node: summary.node,
          seq: summary.seq,
        },
      )
    }
    const block = blocks.get(summary.cid) as Block
    foreign.push({ cid, bytes: block.bytes, event: dagCbor.decode(block.bytes) })
    const held = (await log.cidsAt(summary.node, summary.seq)).map(String)
    const rivals = [...new Set([...held, ...(byPosition.get(`${summary.node}#${summary.seq}`) ?? [])])]
    if (rivals.length > 1) {
      conflicts.push({
        type: 'conflict',
        payload: { kind: 'fork', node: summary.node, seq: summary.seq, entity: null, cids: rivals.sort().map((c) => CID.parse(c)) },
      })
    }
  }
  const dedupedConflicts = dedupeConflicts(conflicts)
  // Linked blocks once each; a linked event (a retention names ingest events) is written as an event above.
  const linked = new Map<string, Block>()
  for (const summary of summaries.values()) {
    for (const link of summary.links) {
      const block = blocks.get(link)
      if (block === undefined || linked.has(link) || summaries.has(link)) continue
      if (!(await log.hasBlock(block.cid))) linked.set(link, block)
    }
  }
  const written = foreign.length > 0 || linked.size > 0 ? await log.writeVerified(foreign, [...linked.values()], dedupedConflicts) : []
  return {
    roots: roots.length,
    events: summaries.size,
    newEvents: foreign.length,
    newBlocks: foreign.length + linked.size,
    forks: dedupedConflicts.length,
    conflicts: written.map((e) => e.cid.toString()),
  }
}

function dedupeConflicts(conflicts: AppendInput[]): AppendInput[] {
  const seen = new Set<string>()
  return conflicts.filter((c) => {
    const key = JSON.stringify((c.payload as { cids: CID[] }).cids.map(String))
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

function chainError(summary: EventSummary, what: string): VsdbError {
  return new VsdbError('BROKEN_CHAIN', `event ${summary.cid} (node ${summary.node}, seq ${summary.seq}) ${what}`, {
    cid: summary.cid,
    node: summary.node,
    seq: summary.seq,
  })
}

async function heldSummary(log: Log, cid: string): Promise<{ node: string; seq: number }> {
  const { event } = await log.getEvent(CID.parse(cid))
  return { node: event.node, seq: event.seq }
}

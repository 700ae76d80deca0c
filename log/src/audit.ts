import { CID } from 'multiformats/cid'
import { createCheckPool } from './check-pool.ts'
import { bytesMatchCid } from './codec.ts'
import type { EventCheck } from './event-check.ts'
import type { Log } from './log.ts'

export interface AuditProblem {
  code: 'CORRUPT_BLOCK' | 'INVALID_EVENT' | 'BAD_SIGNATURE' | 'BROKEN_CHAIN' | 'MISSING_BLOCK'
  message: string
  cid: string
  node: string
  seq: number
}

export interface AuditReport {
  ok: boolean
  nodes: number
  events: number
  linkedBlocks: number
  forks: number
  /** Blocks of the walked chains (events and linked blocks) without a pin. */
  unpinned: number
  /**
   * Raw `ingest` batch blocks absent because a `retention` event of the same node released them ("released by
   * policy"): never a problem. A missing block that no retention event released is one.
   */
  released: number
  problems: AuditProblem[]
}

export interface AuditOptions {
  /** Stop listing after this many problems (the first one is what the CLI names). */
  maxProblems?: number
  workers?: number
}

interface Entry {
  seq: number
  cid: CID
}

type LinkState = 'ok' | 'missing' | 'corrupt'

/** One chunk of a chain, read and checked: everything the in-order walk needs, nothing it must wait for. */
interface CheckedChunk {
  entries: Entry[]
  checks: Map<string, EventCheck>
  unpinned: number
  links: Map<string, { state: LinkState; pinned: boolean }>
}

const CHUNK = 1024
// Chunks read and checked ahead of the in-order walk, so Level reads, worker checks and bookkeeping overlap.
const AHEAD = 3

async function checkChunk(log: Log, pool: ReturnType<typeof createCheckPool>, entries: Entry[]): Promise<CheckedChunk> {
  const stored = await log.blockstore.getRawMany(entries.map((e) => e.cid))
  const present = entries.filter((_, i) => stored[i] !== undefined)
  const blocks = stored.filter((b): b is Uint8Array => b !== undefined)
  const [results, pins] = await Promise.all([
    pool.check(
      present.map((e) => e.cid.toString()),
      blocks,
    ),
    log.pinned(present.map((e) => e.cid)),
  ])
  const checks = new Map(results.map((check) => [check.cid, check]))
  const linkCids = [...new Set(results.flatMap((check) => (check.ok ? check.links : [])))].map((link) => CID.parse(link))
  const [linkBytes, linkPins] = await Promise.all([log.blockstore.getRawMany(linkCids), log.pinned(linkCids)])
  const links = new Map<string, { state: LinkState; pinned: boolean }>()
  for (const [i, cid] of linkCids.entries()) {
    const bytes = linkBytes[i]
    const state: LinkState = bytes === undefined ? 'missing' : bytesMatchCid(cid, bytes) ? 'ok' : 'corrupt'
    links.set(cid.toString(), { state, pinned: linkPins[i] === true })
  }
  return { entries, checks, unpinned: pins.filter((p) => !p).length, links }
}

function checkAhead(log: Log, pool: ReturnType<typeof createCheckPool>, entries: Entry[]): Promise<CheckedChunk> {
  const checked = checkChunk(log, pool, entries)
  checked.catch(() => {}) // awaited in order by the walk; this keeps a failure behind an earlier one from going unhandled
  return checked
}

/**
 * Walks every chain the store holds, in seq order: each block's hash, canonical DAG-CBOR, schema and
 * signature (in worker threads, chunks ahead of the walk), seq contiguity, `prev` links, and every linked
 * block present, intact and pinned — except raw batch blocks a `retention` event of their own node released
 * (counted as `released`). A retention event must release only earlier ingest events of its node whose
 * observations that node's segments had sealed by then.
 */
export async function auditLog(log: Log, options: AuditOptions = {}): Promise<AuditReport> {
  const maxProblems = options.maxProblems ?? 20
  const pool = createCheckPool(options.workers)
  const report: AuditReport = { ok: true, nodes: 0, events: 0, linkedBlocks: 0, forks: 0, unpinned: 0, released: 0, problems: [] }
  const problem = (p: AuditProblem): void => {
    report.ok = false
    if (report.problems.length < maxProblems) report.problems.push(p)
  }
  const seenLinks = new Set<string>()
  const releasedBlocks = new Set<string>()
  try {
    for (const node of await log.nodes()) {
      report.nodes++
      let previousSeq = -1
      let previousCids = new Set<string>()
      let currentSeq = -1
      let currentCids = new Set<string>()
      // Raw retention, followed along the chain: this node's ingest events (each batch's place in its entity's
      // arrival order), how far its segments sealed each entity, and the ingest events its retention events released.
      const ingests = new Map<string, { entity: string; end: number }>()
      const arrivals = new Map<string, number>()
      const sealed = new Map<string, number>()
      const releasedIngests = new Set<string>()
      /** Missing batch blocks of ingest events: released by a later retention event, or a problem. */
      const missingBatches: { event: string; link: string; seq: number }[] = []

      const walk = (chunk: CheckedChunk): void => {
        report.unpinned += chunk.unpinned
        for (const entry of chunk.entries) {
          const cid = entry.cid.toString()
          const check: EventCheck = chunk.checks.get(cid) ?? {
            cid,
            ok: false,
            code: 'MISSING_BLOCK',
            message: `event block ${cid} (node ${node}, seq ${entry.seq}) is missing`,
          }
          report.events++
          if (entry.seq !== currentSeq) {
            if (entry.seq !== currentSeq + 1) {
              problem({ code: 'BROKEN_CHAIN', message: `node ${node} has no event at seq ${currentSeq + 1}`, cid, node, seq: entry.seq })
            }
            previousSeq = currentSeq
            previousCids = currentCids
            currentSeq = entry.seq
            currentCids = new Set()
          } else {
            report.forks++
          }
          currentCids.add(cid)
          if (!check.ok) {
            problem({ code: check.code, message: check.message, cid, node, seq: entry.seq })
            continue
          }
          if (check.node !== node || check.seq !== entry.seq) {
            problem({
              code: 'BROKEN_CHAIN',
              message: `event ${cid} is indexed as ${node}#${entry.seq} but says ${check.node}#${check.seq}`,
              cid,
              node,
              seq: entry.seq,
            })
            continue
          }
          const prevOk =
            check.seq === 0 ? check.prev === null : check.prev !== null && previousSeq === check.seq - 1 && previousCids.has(check.prev)
          if (!prevOk) {
            problem({
              code: 'BROKEN_CHAIN',
              message: `event ${cid} (node ${node}, seq ${check.seq}) has prev ${check.prev} which is not the event at seq ${check.seq - 1}`,
              cid,
              node,
              seq: check.seq,
            })
          }
          const facts = check.facts
          if (facts?.type === 'ingest') {
            const start = arrivals.get(facts.entity) ?? 0
            arrivals.set(facts.entity, start + facts.count)
            ingests.set(cid, { entity: facts.entity, end: start + facts.count })
          } else if (facts?.type === 'segment') {
            if (facts.through > (sealed.get(facts.entity) ?? 0)) sealed.set(facts.entity, facts.through)
          } else if (facts?.type === 'retention') {
            for (const named of facts.released) {
              const ingest = ingests.get(named)
              const where = `retention event ${cid} (node ${node}, seq ${check.seq})`
              if (ingest === undefined) {
                problem({
                  code: 'INVALID_EVENT',
                  message: `${where} releases ${named}, which is not an earlier ingest event of node ${node}`,
                  cid,
                  node,
                  seq: check.seq,
                })
              } else if (ingest.end > (sealed.get(ingest.entity) ?? 0)) {
                problem({
                  code: 'INVALID_EVENT',
                  message: `${where} releases ingest event ${named} before its observations were sealed (entity ${ingest.entity}: through ${ingest.end}, sealed through ${sealed.get(ingest.entity) ?? 0})`,
                  cid,
                  node,
                  seq: check.seq,
                })
              } else {
                releasedIngests.add(named)
              }
            }
          }
          for (const link of check.links) {
            const status = chunk.links.get(link)
            if (status?.state === 'missing' && facts?.type === 'ingest' && facts.batch === link) {
              // Judged once the whole chain is walked: a retention event after this one may have released it.
              if (!seenLinks.has(link)) report.linkedBlocks++
              seenLinks.add(link)
              missingBatches.push({ event: cid, link, seq: check.seq })
              continue
            }
            if (seenLinks.has(link)) continue
            seenLinks.add(link)
            report.linkedBlocks++
            if (status?.pinned !== true) report.unpinned++
            if (status?.state === 'missing') {
              problem({
                code: 'MISSING_BLOCK',
                message: `block ${link} linked from event ${cid} (node ${node}, seq ${check.seq}) is missing`,
                cid: link,
                node,
                seq: check.seq,
              })
            } else if (status?.state === 'corrupt') {
              problem({
                code: 'CORRUPT_BLOCK',
                message: `block ${link} linked from event ${cid} (node ${node}, seq ${check.seq}) does not match its hash`,
                cid: link,
                node,
                seq: check.seq,
              })
            }
          }
        }
      }

      const ahead: Promise<CheckedChunk>[] = []
      let entries: Entry[] = []
      for await (const entry of log.chain(node)) {
        entries.push(entry)
        if (entries.length < CHUNK) continue
        ahead.push(checkAhead(log, pool, entries))
        entries = []
        if (ahead.length >= AHEAD) walk(await (ahead.shift() as Promise<CheckedChunk>))
      }
      if (entries.length > 0) ahead.push(checkAhead(log, pool, entries))
      for (const chunk of ahead) walk(await chunk)

      for (const { event, link, seq } of missingBatches) {
        if (releasedIngests.has(event)) {
          if (!releasedBlocks.has(link)) report.released++
          releasedBlocks.add(link)
          continue
        }
        report.unpinned++
        problem({
          code: 'MISSING_BLOCK',
          message: `block ${link} linked from event ${event} (node ${node}, seq ${seq}) is missing (no retention event of node ${node} released it)`,
          cid: link,
          node,
          seq,
        })
      }
    }
  } finally {
    await pool.close()
  }
  return report
}

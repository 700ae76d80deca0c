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
  problems: AuditProblem[]
}

export interface AuditOptions {
  /** Stop after this many problems (the first one is what the CLI names). */
  maxProblems?: number
  workers?: number
}

const CHUNK = 2048

/**
 * Walks every chain the store holds, in seq order: each block's hash, canonical DAG-CBOR, schema and
 * signature (in worker threads), seq contiguity, `prev` links, and every linked block present and intact.
 */
export async function auditLog(log: Log, options: AuditOptions = {}): Promise<AuditReport> {
  const maxProblems = options.maxProblems ?? 20
  const pool = createCheckPool(options.workers)
  const report: AuditReport = { ok: true, nodes: 0, events: 0, linkedBlocks: 0, forks: 0, unpinned: 0, problems: [] }
  const problem = (p: AuditProblem): void => {
    report.ok = false
    if (report.problems.length < maxProblems) report.problems.push(p)
  }
  const seenLinks = new Set<string>()
  try {
    for (const node of await log.nodes()) {
      report.nodes++
      let previousSeq = -1
      let previousCids = new Set<string>()
      let currentSeq = -1
      let currentCids = new Set<string>()
      const verifyChunk = async (entries: { seq: number; cid: CID }[]): Promise<void> => {
        const blocks: Uint8Array[] = []
        const present: { seq: number; cid: CID }[] = []
        const stored = await log.blockstore.getRawMany(entries.map((e) => e.cid))
        for (const [i, entry] of entries.entries()) {
          const bytes = stored[i]
          if (bytes === undefined) continue
          blocks.push(bytes)
          present.push(entry)
        }
        const checked = new Map<string, EventCheck>()
        for (const check of await pool.check(
          present.map((e) => e.cid.toString()),
          blocks,
        ))
          checked.set(check.cid, check)
        report.unpinned += await log.countUnpinned(present.map((e) => e.cid))
        for (const entry of entries) {
          const check: EventCheck = checked.get(entry.cid.toString()) ?? {
            cid: entry.cid.toString(),
            ok: false,
            code: 'MISSING_BLOCK',
            message: `event block ${entry.cid} (node ${node}, seq ${entry.seq}) is missing`,
          }
          report.events++
          if (entry.seq !== currentSeq) {
            if (entry.seq !== currentSeq + 1) {
              problem({
                code: 'BROKEN_CHAIN',
                message: `node ${node} has no event at seq ${currentSeq + 1}`,
                cid: entry.cid.toString(),
                node,
                seq: entry.seq,
              })
            }
            previousSeq = currentSeq
            previousCids = currentCids
            currentSeq = entry.seq
            currentCids = new Set()
          } else {
            report.forks++
          }
          currentCids.add(entry.cid.toString())
          if (!check.ok) {
            problem({ code: check.code, message: check.message, cid: check.cid, node, seq: entry.seq })
            continue
          }
          if (check.node !== node || check.seq !== entry.seq) {
            problem({
              code: 'BROKEN_CHAIN',
              message: `event ${check.cid} is indexed as ${node}#${entry.seq} but says ${check.node}#${check.seq}`,
              cid: check.cid,
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
              message: `event ${check.cid} (node ${node}, seq ${check.seq}) has prev ${check.prev} which is not the event at seq ${check.seq - 1}`,
              cid: check.cid,
              node,
              seq: check.seq,
            })
          }
          for (const link of check.links) {
            if (seenLinks.has(link)) continue
            seenLinks.add(link)
            report.linkedBlocks++
            const linkCid = CID.parse(link)
            const bytes = await log.blockstore.getRaw(linkCid)
            report.unpinned += await log.countUnpinned([linkCid])
            if (bytes === undefined) {
              problem({
                code: 'MISSING_BLOCK',
                message: `block ${link} linked from event ${check.cid} (node ${node}, seq ${check.seq}) is missing`,
                cid: link,
                node,
                seq: check.seq,
              })
            } else if (!bytesMatchCid(linkCid, bytes)) {
              problem({
                code: 'CORRUPT_BLOCK',
                message: `block ${link} linked from event ${check.cid} (node ${node}, seq ${check.seq}) does not match its hash`,
                cid: link,
                node,
                seq: check.seq,
              })
            }
          }
        }
      }
      let entries: { seq: number; cid: CID }[] = []
      for await (const entry of log.chain(node)) {
        entries.push(entry)
        if (entries.length >= CHUNK) {
          await verifyChunk(entries)
          entries = []
        }
      }
      await verifyChunk(entries)
    }
  } finally {
    await pool.close()
  }
  return report
}

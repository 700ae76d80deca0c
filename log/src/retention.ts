import type { Log } from './log.ts'
import type { PayloadOf, RetentionPolicy } from './schema.ts'

/** What one node's `retention` events held here say: its policy now, and the ingest events it released. */
export interface NodeRetention {
  /** The policy of its latest retention event; `keep` when it never recorded one. */
  policy: RetentionPolicy
  /** Released ingest event (CID text) → seq of the retention event that released it. */
  released: Map<string, number>
  /** Its retention events. */
  events: number
}

/**
 * Reads the `retention` events of one node held in the log, in seq order (one pass over the type index; a node
 * writes one per policy change and per release).
 */
export async function readRetention(log: Log, node: string): Promise<NodeRetention> {
  const out: NodeRetention = { policy: 'keep', released: new Map(), events: 0 }
  for await (const entry of log.byType('retention')) {
    if (entry.node !== node) continue
    const { event } = await log.getEvent(entry.cid)
    const payload = event.payload as PayloadOf<'retention'>
    out.events++
    out.policy = payload.policy
    for (const cid of payload.released) if (!out.released.has(cid.toString())) out.released.set(cid.toString(), event.seq)
  }
  return out
}

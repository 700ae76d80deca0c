import type { Log, StoredEvent } from '@vsdb/log'
import type { Position } from './views.ts'

/**
 * Every event of the log after `position` (per node, by seq), chain by chain: the tail a projection loaded
 * from a checkpoint still has to fold, or the whole log from an empty position.
 */
export async function* eventsAfter(log: Log, position: Position = {}): AsyncGenerator<StoredEvent> {
  for (const node of await log.nodes()) {
    for await (const { cid } of log.chain(node, { fromSeq: (position[node] ?? -1) + 1 })) yield await log.getEvent(cid)
  }
}

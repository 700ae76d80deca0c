import type { Log, StoredEvent } from '@vsdb/log'
import type { CID } from 'multiformats/cid'
import type { Position } from './views.ts'

/**
 * Every event of the log after `position` (per node, by seq), chain by chain: the tail a projection loaded
 * from a checkpoint still has to fold, or the whole log from an empty position.
 */
export async function* eventsAfter(log: Log, position: Position = {}): AsyncGenerator<StoredEvent> {
  for (const node of await log.nodes()) {
    // Read in chunks (one multi-get each) rather than an awaited get per event: a replay is latency-bound otherwise.
    let chunk: CID[] = []
    for await (const { cid } of log.chain(node, { fromSeq: (position[node] ?? -1) + 1 })) {
      chunk.push(cid)
      if (chunk.length === CHUNK) {
        yield* await log.getEvents(chunk)
        chunk = []
      }
    }
    if (chunk.length > 0) yield* await log.getEvents(chunk)
  }
}

const CHUNK = 256

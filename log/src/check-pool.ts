import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { checkEventBlock, type EventCheck } from './event-check.ts'

export interface CheckPool {
  /** Checks event blocks in parallel; results come back in the order given. */
  check(cids: string[], blocks: Uint8Array[]): Promise<EventCheck[]>
  close(): Promise<void>
}

/**
 * Hash, decode and signature checks are independent per event (unlike signing, which follows the chain),
 * so audits and imports spread them over worker threads, one per core.
 */
const checkInline = async (cids: string[], blocks: Uint8Array[]): Promise<EventCheck[]> =>
  cids.map((cid, i) => checkEventBlock(cid, blocks[i] as Uint8Array))

// Below this many events a call is checked inline: starting workers costs more than it saves.
const INLINE_BELOW = 256

export function createCheckPool(size = availableParallelism()): CheckPool {
  if (size <= 1) return { check: checkInline, close: async () => {} }
  let pool: CheckPool | null = null
  return {
    check(cids, blocks) {
      if (pool === null && cids.length < INLINE_BELOW) return checkInline(cids, blocks)
      pool ??= startWorkers(size)
      return pool.check(cids, blocks)
    },
    close: async () => pool?.close(),
  }
}

function startWorkers(size: number): CheckPool {
  const workers = Array.from({ length: size }, () => {
    const worker = new Worker(new URL('./check-worker.ts', import.meta.url))
    worker.unref()
    return worker
  })
  const waiting = new Map<number, { resolve: (results: EventCheck[]) => void; reject: (err: unknown) => void }>()
  for (const worker of workers) {
    worker.on('message', (msg: { id: number; results: EventCheck[] }) => {
      waiting.get(msg.id)?.resolve(msg.results)
      waiting.delete(msg.id)
    })
    worker.on('error', (err) => {
      for (const job of waiting.values()) job.reject(err)
      waiting.clear()
    })
  }
  let nextId = 0
  let nextWorker = 0

  function run(cids: string[], blocks: Uint8Array[]): Promise<EventCheck[]> {
    const id = nextId++
    const worker = workers[nextWorker++ % workers.length] as Worker
    return new Promise((resolve, reject) => {
      waiting.set(id, { resolve, reject })
      worker.postMessage({ id, cids, blocks })
    })
  }

  return {
    async check(cids, blocks) {
      const chunk = Math.ceil(cids.length / workers.length)
      const parts: Promise<EventCheck[]>[] = []
      for (let start = 0; start < cids.length; start += chunk) {
        parts.push(run(cids.slice(start, start + chunk), blocks.slice(start, start + chunk)))
      }
      return (await Promise.all(parts)).flat()
    },
    async close() {
      await Promise.all(workers.map((worker) => worker.terminate()))
    },
  }
}

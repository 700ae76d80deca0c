import { Worker } from 'node:worker_threads'
import type { StoredEvent } from '@vsdb/log'
import { type Measured, timed } from './report.ts'

/**
 * The ceiling of a parallel audit: `checkEventBlock` (hash, decode, schemas, canonical form, signature) of every
 * event, spread over `threads` worker threads in chunks, with nothing read from Level and no chain bookkeeping.
 * Workers are started and warmed before the clock starts.
 */
export async function checkOnWorkers(events: StoredEvent[], threads: number, chunk = 2048): Promise<Measured> {
  const workers = Array.from({ length: threads }, () => new Worker(new URL('./check-worker.ts', import.meta.url)))
  try {
    const send = (worker: Worker, part: StoredEvent[]): Promise<number> =>
      new Promise((resolve, reject) => {
        worker.once('message', (ok: number) => resolve(ok))
        worker.once('error', reject)
        worker.postMessage({ cids: part.map((e) => e.cid.toString()), blocks: part.map((e) => e.bytes) })
      })
    await Promise.all(workers.map((worker) => send(worker, events.slice(0, 1_000))))
    let next = 0
    const run = await timed(async () => {
      const ok = await Promise.all(
        workers.map(async (worker) => {
          let good = 0
          while (next < events.length) {
            const start = next
            next += chunk
            good += await send(worker, events.slice(start, start + chunk))
          }
          return good
        }),
      )
      return ok.reduce((a, b) => a + b, 0)
    })
    if (run.value !== events.length) throw new Error(`only ${run.value} of ${events.length} events checked ok on workers`)
    return run
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()))
  }
}

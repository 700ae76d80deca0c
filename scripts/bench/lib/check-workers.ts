import { createCheckPool, type StoredEvent } from '@vsdb/log'
import { type Measured, timed } from './report.ts'

/**
 * The ceiling of a parallel audit: the log's own check pool (`checkEventBlock`: hash, decode, schemas,
 * canonical form, signature) over every event on `threads` worker threads, in chunks, with nothing read from
 * Level and no chain bookkeeping. The workers are started and warmed before the clock starts.
 */
export async function checkOnWorkers(events: StoredEvent[], threads: number, chunk = 4096): Promise<Measured> {
  const pool = createCheckPool(threads)
  const check = async (part: StoredEvent[]): Promise<number> =>
    (
      await pool.check(
        part.map((e) => e.cid.toString()),
        part.map((e) => e.bytes),
      )
    ).filter((c) => c.ok).length
  try {
    await check(events.slice(0, 1_000))
    const run = await timed(async () => {
      let good = 0
      for (let start = 0; start < events.length; start += chunk) good += await check(events.slice(start, start + chunk))
      return good
    })
    if (run.value !== events.length) throw new Error(`only ${run.value} of ${events.length} events checked ok on workers`)
    return run
  } finally {
    await pool.close()
  }
}

import { TRPCError } from '@trpc/server'

/** A subscriber this far behind is cut off (it can subscribe again) rather than let the node's memory grow. */
const MAX_QUEUED = 10_000

/**
 * What a node tells a listener (`subscribe` registers one and returns its unsubscribe), as an async stream that
 * ends when `signal` aborts, or with UNAUTHORIZED once `allowed` says no (the subscriber's token was revoked). Items
 * are queued between reads, so a slow reader misses nothing until it is MAX_QUEUED behind.
 */
export async function* nodeFeed<T>(
  signal: AbortSignal | undefined,
  allowed: () => boolean,
  subscribe: (push: (...items: T[]) => void) => () => void,
): AsyncGenerator<T> {
  const queue: T[] = []
  let wake: (() => void) | null = null
  let overflow = false
  const off = subscribe((...items) => {
    if (items.length === 0) return
    queue.push(...items)
    if (queue.length > MAX_QUEUED) overflow = true
    wake?.()
  })
  const aborted = new Promise<void>((resolve) => {
    if (signal?.aborted === true) resolve()
    signal?.addEventListener('abort', () => resolve(), { once: true })
  })
  try {
    while (signal?.aborted !== true) {
      if (overflow) throw new Error(`subscriber more than ${MAX_QUEUED} events behind: subscribe again`)
      const item = queue.shift()
      if (item !== undefined) {
        if (!allowed()) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'the token of this subscription is no longer valid' })
        yield item
        continue
      }
      await Promise.race([new Promise<void>((resolve) => (wake = resolve)), aborted])
      wake = null
    }
  } finally {
    off()
  }
}

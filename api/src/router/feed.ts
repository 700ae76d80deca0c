import type { EventListener, VsdbNode } from '@vsdb/engine'

/** A subscriber this far behind is cut off (it can subscribe again) rather than let the node's memory grow. */
const MAX_QUEUED = 10_000

/**
 * What `pick` makes of each event the node folds, as an async stream that ends when `signal` aborts.
 * Events are queued between reads, so a slow reader misses nothing until it is MAX_QUEUED behind.
 */
export async function* nodeFeed<T>(
  node: VsdbNode,
  signal: AbortSignal | undefined,
  pick: (...args: Parameters<EventListener>) => T[],
): AsyncGenerator<T> {
  const queue: T[] = []
  let wake: (() => void) | null = null
  let overflow = false
  const off = node.onEvent((event, segment) => {
    const items = pick(event, segment)
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

/** How the typed client makes a query without tRPC's client: null where tRPC's client must (streams, other transports). */
export type DirectQuery = ((path: string, input: unknown, signal: AbortSignal | null | undefined) => Promise<unknown>) | null

/** Proxies for paths kept at most: a caller walking arbitrary names gets fresh ones, as from tRPC's own proxy. */
const MAX_KEPT = 1_000

/**
 * tRPC's typed client, with `.query()` calls of a procedure handed to `queryOf(path)` when it gives a function, and
 * `extra` properties in front: every other call (mutations, subscriptions, streamed queries) goes to tRPC's client
 * as it is. The procedure path is built as tRPC's proxy builds it (names joined with `.`).
 */
export function withDirectQueries<T extends object, E extends Record<string, unknown>>(
  trpc: T,
  extra: E,
  queryOf: (path: string) => DirectQuery,
): T & E {
  const kept = new Map<string, unknown>()
  const node = (path: readonly string[]): unknown => {
    const key = path.join('.')
    const known = kept.get(key)
    if (known !== undefined) return known
    const made = new Proxy(() => {}, {
      get: (_target, prop) => (typeof prop === 'string' && prop !== 'then' ? node([...path, prop]) : undefined),
      apply: (_target, _this, args: unknown[]) => {
        const method = path[path.length - 1]
        const procedure = path.slice(0, -1).join('.')
        const direct = method === 'query' ? queryOf(procedure) : null
        if (direct !== null) return direct(procedure, args[0], (args[1] as { signal?: AbortSignal | null } | undefined)?.signal)
        let target: unknown = trpc
        for (const name of path.slice(0, -1)) target = (target as Record<string, unknown>)[name]
        return (target as Record<string, (...a: unknown[]) => unknown>)[method as string]?.(...args)
      },
    })
    if (kept.size < MAX_KEPT) kept.set(key, made)
    return made
  }
  return new Proxy(trpc as T & E, {
    get: (target, prop, receiver) => {
      if (typeof prop === 'string' && Object.hasOwn(extra, prop)) return extra[prop]
      if (typeof prop !== 'string' || prop === 'then') return Reflect.get(target, prop, receiver)
      return node([prop])
    },
  })
}

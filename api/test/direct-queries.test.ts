import { createTRPCClient, getUntypedClient, httpLink, TRPCClientError } from '@trpc/client'
import { describe, expect, it, vi } from 'vitest'
import { createClient } from '../src/client/node-client.ts'
import type { AppRouter } from '../src/router/app-router.ts'
import { observations, useFixture } from './api-fixture.ts'

const f = useFixture({ seed: { entity: 'direct-a', rows: 600 } })

/** tRPC's own client, its plain httpLink: what the typed client's direct queries must be indistinguishable from. */
const trpcClient = (token: string) =>
  createTRPCClient<AppRouter>({ links: [httpLink({ url: `${f.server.url}/trpc`, headers: { authorization: `Bearer ${token}` } })] })

/** What a caller can see of a call's outcome: its value, or its error's class, name, message, data and shape. */
async function outcome(call: () => Promise<unknown>): Promise<unknown> {
  try {
    return { value: await call() }
  } catch (err) {
    const e = err as TRPCClientError<AppRouter>
    return { trpcError: e instanceof TRPCClientError, name: e.name, message: e.message, data: e.data, shape: e.shape }
  }
}

describe('the typed client’s queries over HTTP, made without tRPC’s client', () => {
  it('answers and fails every kind of query exactly as tRPC’s own client does', async () => {
    const ours = createClient({ url: f.server.url, token: f.tokens.read })
    const theirs = trpcClient(f.tokens.read)
    const stranger = createClient({ url: f.server.url, token: `vsdb_000000000000_${'x'.repeat(43)}` })
    const theirStranger = trpcClient(`vsdb_000000000000_${'x'.repeat(43)}`)
    try {
      const cid = f.node.segments({ limit: 1 })[0]?.cid as string
      const pairs: [() => Promise<unknown>, () => Promise<unknown>][] = [
        [() => ours.counts.query(), () => theirs.counts.query()],
        [() => ours.query.query({ vector: [1, 0.5], k: 3 }), () => theirs.query.query({ vector: [1, 0.5], k: 3 })],
        [() => ours.query.query({ like: cid, k: 2 }), () => theirs.query.query({ like: cid, k: 2 })],
        [() => ours.segment.query({ cid }), () => theirs.segment.query({ cid })],
        [() => ours.read.query({ entity: 'direct-a', limit: 5 }), () => theirs.read.query({ entity: 'direct-a', limit: 5 })],
        // Refused: bad input (zod), an unknown entity (the engine), too narrow a scope, no valid token, no procedure.
        [() => ours.query.query({ vector: [1, 2], k: 0 }), () => theirs.query.query({ vector: [1, 2], k: 0 })],
        [() => ours.read.query({ entity: 'nobody' }), () => theirs.read.query({ entity: 'nobody' })],
        [() => ours.audit.query(), () => theirs.audit.query()],
        [() => stranger.entities.query(), () => theirStranger.entities.query()],
        [
          () => (ours as unknown as { nothing: { query(): Promise<unknown> } }).nothing.query(),
          () => (theirs as unknown as { nothing: { query(): Promise<unknown> } }).nothing.query(),
        ],
      ]
      // tRPC's client is not asked for any of these queries: they go the direct way.
      const viaTrpc = vi.spyOn(getUntypedClient(ours), 'query')
      const outcomes = []
      for (const [a, b] of pairs) {
        const [mine, reference] = [await outcome(a), await outcome(b)]
        expect(mine).toEqual(reference)
        outcomes.push(mine)
      }
      // Both kinds were compared: answers and refusals.
      expect(outcomes.filter((o) => 'value' in (o as object)).length).toBe(5)
      // The same calls made in one turn go as batched GETs, each still answered as tRPC's own client answers it.
      const together = await Promise.all(pairs.map(([a]) => outcome(a)))
      expect(together).toEqual(outcomes)
      expect(viaTrpc).not.toHaveBeenCalled()
      // A procedure of a nested router, with its own scope.
      const admin = createClient({ url: f.server.url, token: f.tokens.admin })
      try {
        expect(await outcome(() => admin.tokens.list.query())).toEqual(await outcome(() => trpcClient(f.tokens.admin).tokens.list.query()))
        expect(await outcome(() => ours.tokens.list.query())).toEqual(await outcome(() => theirs.tokens.list.query()))
      } finally {
        await admin.close()
      }
    } finally {
      await ours.close()
      await stranger.close()
    }
  })

  it('gives up on a query whose signal aborts as tRPC’s client does, and sends the rest of its batch', async () => {
    const ours = createClient({ url: f.server.url, token: f.tokens.read })
    try {
      await expect(ours.counts.query(undefined, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(TRPCClientError)
      const controller = new AbortController()
      const gaveUp = ours.digest.query(undefined, { signal: controller.signal })
      const kept = ours.counts.query()
      controller.abort()
      await expect(gaveUp).rejects.toThrow('The operation was aborted')
      expect(await kept).toEqual(f.node.views.counts())
    } finally {
      await ours.close()
    }
  })

  it('leaves mutations, subscriptions and streamed queries to tRPC’s client, and is neither thenable nor without close', async () => {
    const writer = createClient({ url: f.server.url, token: f.tokens.write })
    try {
      expect((writer as unknown as { then?: unknown }).then).toBeUndefined()
      expect(typeof writer.close).toBe('function')
      const written = await writer.ingest.mutate({ observations: observations('direct-b', 0, 10) })
      expect(written).toMatchObject({ rows: 10 })
      const seen: unknown[] = []
      const sub = writer.onSegment.subscribe(undefined, { onData: (s) => seen.push(s) })
      await writer.ingest.mutate({ observations: observations('direct-b', 10, 600) })
      await expect.poll(() => seen.length, { timeout: 10_000 }).toBeGreaterThan(0)
      sub.unsubscribe()
    } finally {
      await writer.close()
    }
  })
})

import { initTRPC } from '@trpc/server'
import { callProcedure, getProcedureAtPath, type TRPCError } from '@trpc/server/unstable-core-do-not-import'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { appRouter } from '../src/router/app-router.ts'
import type { ApiContext } from '../src/router/context.ts'
import { callThroughChain, middlewaresOf } from '../src/server/procedure-chain.ts'
import { useFixture } from './api-fixture.ts'

const f = useFixture({ seed: { entity: 'chain', rows: 600 } })

const contextOf = (scope: 'read' | 'write' | 'admin' | null): ApiContext => {
  const principal = scope === null ? null : { id: 't', scope, label: '' }
  return { node: f.node, tokens: f.tokens as never, principal, principalNow: () => principal, listening: null } as unknown as ApiContext
}

/** A call's outcome, data or error, either way as comparable plain values. */
async function outcome(run: () => Promise<unknown>): Promise<unknown> {
  try {
    return { data: await run() }
  } catch (err) {
    const e = err as TRPCError
    return { code: e.code, message: e.message, cause: (e.cause as Error | undefined)?.name }
  }
}

describe('the fast path runs a procedure as tRPC does', () => {
  const cases: [string, 'query' | 'mutation', unknown, 'read' | 'write' | 'admin' | null][] = [
    ['counts', 'query', undefined, 'read'],
    ['query', 'query', { vector: [0, 0.5], k: 3 }, 'read'],
    ['query', 'query', { vector: [0, 0.5], k: 0 }, 'read'],
    ['query', 'query', { vector: [0, 0.5], entity: 'nobody' }, 'read'],
    ['segments', 'query', { entity: 'chain', limit: 2 }, 'read'],
    ['counts', 'query', undefined, null],
    ['audit', 'query', undefined, 'read'],
    ['ingest', 'mutation', { observations: [{ entity: 'chain', ts: 1, vector: ['x'] }] }, 'write'],
  ]
  it.each(cases)('%s (%s) with %j as %s: the same data or the same error', async (path, type, input, scope) => {
    const procedure = await getProcedureAtPath(appRouter, path)
    if (procedure === null) throw new Error(`no procedure ${path}`)
    const middlewares = middlewaresOf(procedure)
    expect(middlewares).not.toBeNull()
    const call = { ctx: contextOf(scope), type, path, input: undefined, getRawInput: async () => input, signal: undefined, batchIndex: 0 }
    const ours = await outcome(() => callThroughChain(middlewares ?? [], procedure._def.meta, call))
    const theirs = await outcome(() => callProcedure({ router: appRouter, ...call }))
    expect(ours).toEqual(theirs)
  })
})

describe('callThroughChain', () => {
  it('passes on what each middleware gives next (context merged, input replaced) as tRPC does', async () => {
    const t = initTRPC.context<{ base: string; extra?: string }>().create()
    const procedure = t.procedure
      .use(({ next }) => next({ ctx: { extra: 'added' } }))
      .input(z.object({ n: z.number() }))
      .use(({ next, input }) => next({ input: { n: (input as { n: number }).n * 2 } }))
      .query(({ ctx, input }) => ({ base: ctx.base, extra: ctx.extra, n: input.n }))
    const router = t.router({ p: procedure })
    const call = {
      ctx: { base: 'b' },
      type: 'query' as const,
      path: 'p',
      input: undefined,
      getRawInput: async () => ({ n: 21 }),
      signal: undefined,
      batchIndex: 0,
    }
    const ours = await callThroughChain(middlewaresOf(procedure) ?? [], procedure._def.meta, call)
    expect(ours).toEqual({ base: 'b', extra: 'added', n: 42 })
    expect(ours).toEqual(await callProcedure({ router, ...call }))
  })
})

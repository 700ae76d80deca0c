import { initTRPC, TRPCError } from '@trpc/server'
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc'
import { isVsdbError, type VsdbErrorCode } from '@vsdb/log'
import { ZodError } from 'zod'
import { type Scope, scopeAllows } from '../tokens/index.ts'
import type { ApiContext } from './context.ts'

const STATUS_OF: Partial<Record<VsdbErrorCode, TRPC_ERROR_CODE_KEY>> = {
  INVALID_INPUT: 'BAD_REQUEST',
  BAD_CAR: 'BAD_REQUEST',
  NOT_FOUND: 'NOT_FOUND',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  IN_USE: 'CONFLICT',
  ALREADY_INITIALIZED: 'CONFLICT',
  CLOSED: 'SERVICE_UNAVAILABLE',
  UNAVAILABLE: 'SERVICE_UNAVAILABLE',
}

/** The field a bad input is about: the engine's error names it, or the first zod issue's path. */
function fieldOf(cause: unknown): string | undefined {
  if (isVsdbError(cause)) {
    const { field, index } = cause.details
    if (typeof field !== 'string') return undefined
    return typeof index === 'number' ? `observations.${index}.${field}` : field
  }
  if (cause instanceof ZodError) {
    const path = cause.issues[0]?.path
    return path === undefined || path.length === 0 ? undefined : path.map(String).join('.')
  }
  return undefined
}

const t = initTRPC.context<ApiContext>().create({
  errorFormatter({ shape, error }) {
    const { cause } = error
    const field = fieldOf(cause)
    let message = shape.message
    if (cause instanceof ZodError) {
      const issue = cause.issues[0]
      message = issue === undefined ? 'invalid input' : `${field ?? 'input'}: ${issue.message}`
    }
    return {
      ...shape,
      message,
      data: { ...shape.data, stack: undefined, field, vsdbCode: isVsdbError(cause) ? cause.code : undefined },
    }
  },
})

/**
 * The scope check, and the project's errors turned into tRPC errors with the matching HTTP status (the message
 * and field kept): one middleware, since each one tRPC chains costs a few µs of every call.
 */
function scoped(scope: Scope) {
  return t.middleware(async ({ ctx, next }) => {
    const principal = ctx.principalNow()
    if (principal === null) {
      throw new TRPCError({ code: 'UNAUTHORIZED', message: 'a bearer token is required (Authorization: Bearer TOKEN)' })
    }
    if (!scopeAllows(principal.scope, scope)) {
      throw new TRPCError({ code: 'FORBIDDEN', message: `this needs a ${scope} token; this token's scope is ${principal.scope}` })
    }
    // A subscription outlives this check: it asks again before each item it sends.
    const stillAllowed = (): boolean => {
      const now = ctx.principalNow()
      return now !== null && scopeAllows(now.scope, scope)
    }
    const result = await next({ ctx: { ...ctx, principal, stillAllowed } })
    if (!result.ok && isVsdbError(result.error.cause)) {
      const cause = result.error.cause
      throw new TRPCError({ code: STATUS_OF[cause.code] ?? 'INTERNAL_SERVER_ERROR', message: cause.message, cause })
    }
    return result
  })
}

export const router = t.router
export const createCallerFactory = t.createCallerFactory
export const readProcedure = t.procedure.use(scoped('read'))
export const writeProcedure = t.procedure.use(scoped('write'))
export const adminProcedure = t.procedure.use(scoped('admin'))

import type { ServerResponse } from 'node:http'
import { TRPCError } from '@trpc/server'
import { getHTTPStatusCodeFromError } from '@trpc/server/http'
import { isVsdbError, type VsdbErrorCode } from '@vsdb/log'
import { ZodError } from 'zod'

const HTTP_STATUS: Partial<Record<VsdbErrorCode, number>> = {
  INVALID_INPUT: 400,
  BAD_CAR: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  IN_USE: 409,
  TOO_LARGE: 413,
  CLOSED: 503,
  UNAVAILABLE: 503,
}

export interface ErrorBody {
  error: { code: string; message: string; field?: string }
}

/** Any error as `{status, body}`: the project's and tRPC's carry their status; anything else is a 500 with no internals. */
export function errorResponse(err: unknown): { status: number; body: ErrorBody } {
  const cause = err instanceof TRPCError ? (err.cause ?? err) : err
  if (cause instanceof ZodError) {
    const issue = cause.issues[0]
    const field = issue === undefined || issue.path.length === 0 ? undefined : issue.path.map(String).join('.')
    return {
      status: 400,
      body: { error: { code: 'INVALID_INPUT', message: `${field ?? 'input'}: ${issue?.message ?? 'invalid'}`, field } },
    }
  }
  if (isVsdbError(cause)) {
    const { field, index } = cause.details
    const named = typeof field !== 'string' ? undefined : typeof index === 'number' ? `observations.${index}.${field}` : field
    return { status: HTTP_STATUS[cause.code] ?? 500, body: { error: { code: cause.code, message: cause.message, field: named } } }
  }
  if (err instanceof TRPCError) {
    return { status: getHTTPStatusCodeFromError(err), body: { error: { code: err.code, message: err.message } } }
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

export function sendError(res: ServerResponse, err: unknown): void {
  const { status, body } = errorResponse(err)
  if (res.headersSent) {
    res.destroy(err instanceof Error ? err : undefined)
    return
  }
  sendJson(res, status, body)
}

import type { ServerResponse } from 'node:http'
import { isVsdbError } from '@vsdb/log'
import { GatewayError } from './gateway-error.ts'

/** Any error met before the first byte as a GatewayError: the log's missing and corrupt blocks keep their CID. */
export function asGatewayError(err: unknown, cid?: string): GatewayError {
  if (err instanceof GatewayError) return err
  if (isVsdbError(err, 'NOT_FOUND')) return new GatewayError(404, 'NOT_FOUND', err.message, { cid: err.details.cid ?? cid })
  if (isVsdbError(err, 'CORRUPT_BLOCK')) {
    return new GatewayError(500, 'CORRUPT_BLOCK', `${err.message}: the node will not serve it`, { cid: err.details.cid ?? cid })
  }
  if (isVsdbError(err, 'CLOSED')) return new GatewayError(503, 'UNAVAILABLE', 'the node is shutting down', { cid })
  return new GatewayError(500, 'INTERNAL', 'internal error', { cid })
}

/** Sends the error as JSON (headers only for HEAD). Errors are not cached: a block missing today may be held tomorrow. */
export function sendGatewayError(res: ServerResponse, err: GatewayError, head: boolean, extra: Record<string, string> = {}): void {
  const body = JSON.stringify({ error: { code: err.code, message: err.message, ...err.details } })
  res.writeHead(err.status, {
    ...extra,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    vary: 'Accept',
  })
  res.end(head ? undefined : body)
}

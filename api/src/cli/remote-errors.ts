import { TRPCClientError } from '@trpc/client'
import { VsdbError, type VsdbErrorCode } from '@vsdb/log'

const CODES = new Set<string>([
  'INVALID_INPUT',
  'NOT_FOUND',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'TOO_LARGE',
  'IN_USE',
  'BAD_CAR',
  'CORRUPT_BLOCK',
  'BAD_SIGNATURE',
  'BROKEN_CHAIN',
  'MISSING_BLOCK',
])

const TRPC_CODES: Record<string, string> = {
  BAD_REQUEST: 'INVALID_INPUT',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  PAYLOAD_TOO_LARGE: 'TOO_LARGE',
}

/** A tRPC client error as the project's error (message and field kept). */
export function errorOfTrpc(err: unknown): unknown {
  if (!(err instanceof TRPCClientError)) return err
  const data = err.data as { vsdbCode?: string; field?: string; code?: string } | undefined
  const code = data?.vsdbCode ?? TRPC_CODES[data?.code ?? ''] ?? ''
  return new VsdbError((CODES.has(code) ? code : 'UNAVAILABLE') as VsdbErrorCode, err.message, { field: data?.field }, { cause: err })
}

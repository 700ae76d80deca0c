import type { IncomingMessage } from 'node:http'
import { VsdbError } from '@vsdb/log'
import { type Principal, type Scope, scopeAllows, type TokenStore } from '../tokens/index.ts'

/** The bearer token of a request's Authorization header, if any. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization
  if (header === undefined) return undefined
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return match?.[1]
}

export function principalOf(tokens: TokenStore, token: string | undefined): Principal | null {
  return token === undefined ? null : tokens.verify(token)
}

/** 401 without a valid token, 403 when its scope is too narrow. */
export function requireScope(principal: Principal | null, scope: Scope): Principal {
  if (principal === null) throw new VsdbError('UNAUTHORIZED', 'a bearer token is required (Authorization: Bearer TOKEN)')
  if (!scopeAllows(principal.scope, scope)) {
    throw new VsdbError('FORBIDDEN', `this needs a ${scope} token; this token's scope is ${principal.scope}`)
  }
  return principal
}

import { createTRPCClient, createWSClient, httpBatchStreamLink, httpLink, type TRPCClient, wsLink } from '@trpc/client'
import type { AppRouter } from '../router/app-router.ts'
import { chooseLink } from './choose-link.ts'
import { withDirectQueries } from './direct-queries.ts'
import { frameLink } from './frame-link.ts'
import { httpCalls } from './http-calls.ts'
import { fetchTransport, type HttpTransport } from './http-transport.ts'
import { type SocketClass, socketCallLink } from './socket-call-link.ts'

export interface ClientOptions {
  /** The node's base URL, e.g. `http://127.0.0.1:7300` (what `vsdb serve` prints). */
  url: string
  token: string
  /**
   * How calls travel: `http` (batched, keep-alive; subscriptions over WebSocket when used) or `ws` (everything
   * over one WebSocket). Default `http`.
   */
  transport?: 'http' | 'ws'
}

export type VsdbClient = TRPCClient<AppRouter> & {
  /** Closes the WebSocket, if one was opened. */
  close(): Promise<void>
}

/**
 * A typed client of a running node: every procedure of the router, with its input and output types. Queries and
 * mutations go over HTTP with batching; subscriptions (`onSegment`, `onAnomaly`) over a WebSocket opened on first use.
 *
 * @example
 * const vsdb = createClient({ url: 'http://127.0.0.1:7300', token })
 * const hits = await vsdb.query.query({ like: segmentCid, k: 10 })
 */
export function createClient(options: ClientOptions): VsdbClient {
  return createClientOver(options, { transport: fetchTransport })
}

/** The typed client with queries and JSON mutations sent through `http` (closed with the client). */
export function createClientOver(
  options: ClientOptions,
  http: { transport: HttpTransport; close?: () => void },
  WebSocket?: SocketClass,
): VsdbClient {
  const base = options.url.replace(/\/+$/, '')
  const headers = { authorization: `Bearer ${options.token}` }
  const ws = createWSClient({
    url: `${base.replace(/^http/, 'ws')}/trpc`,
    connectionParams: { token: options.token },
    lazy: { enabled: true, closeMs: 5_000 },
  })
  const overHttp = httpCalls<AppRouter>({ url: `${base}/trpc`, headers, transport: http.transport })
  const calls = socketCallLink<AppRouter>({ url: `${base.replace(/^http/, 'ws')}/trpc`, token: options.token, WebSocket })
  const trpc = createTRPCClient<AppRouter>({
    links: [
      chooseLink<AppRouter, 'subscription' | 'socket' | 'import' | 'export' | 'http'>(
        (op) => {
          if (op.type === 'subscription') return 'subscription'
          if (needsTrpcLink(op.path)) return op.path
          return options.transport === 'ws' ? 'socket' : 'http'
        },
        {
          subscription: [wsLink({ client: ws })],
          socket: [frameLink(), calls.link],
          import: [httpLink({ url: `${base}/trpc`, headers })],
          export: [httpBatchStreamLink({ url: `${base}/trpc`, headers })],
          http: [frameLink(), overHttp.link],
        },
      ),
    ],
  })
  const close = async (): Promise<void> => {
    try {
      await Promise.all([ws.close(), calls.close()])
    } finally {
      http.close?.()
    }
  }
  const direct = options.transport === 'ws' ? null : overHttp.query
  return withDirectQueries(trpc, { close }, (path) => (needsTrpcLink(path) ? null : direct))
}

/** Binary input (a CAR to import) needs tRPC's own link; a streamed output (an export) its streaming link. */
const needsTrpcLink = (path: string): path is 'import' | 'export' => path === 'import' || path === 'export'

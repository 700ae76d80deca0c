import { timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { createHTTPHandler } from '@trpc/server/adapters/standalone'
import { applyWSSHandler } from '@trpc/server/adapters/ws'
import type { VsdbNode } from '@vsdb/engine'
import { VsdbError } from '@vsdb/log'
import { WebSocketServer } from 'ws'
import { createGatewayHandler } from '../gateway/trustless-gateway.ts'
import { appRouter } from '../router/app-router.ts'
import type { ApiContext } from '../router/context.ts'
import type { Principal, TokenStore } from '../tokens/index.ts'
import { bearerToken, principalOf, requireScope } from './auth.ts'
import { sendError, sendJson } from './http-errors.ts'
import { plainTarget } from './request-target.ts'
import { createRestHandler } from './rest-routes.ts'
import { socketEncoder } from './socket-encoder.ts'
import { serveStatic } from './static-files.ts'
import { createTrpcFastPath } from './trpc-fast-path.ts'

export interface ApiServerOptions {
  node: VsdbNode
  tokens: TokenStore
  /** Default 127.0.0.1: only this machine. Pass `0.0.0.0` (or an address) to widen. */
  host?: string
  /** Default 0: any free port. */
  port?: number
  /** Largest request body (ingest batches, imports through tRPC); default 64 MiB. */
  maxBodyBytes?: number
  /** A request that takes longer is cut off; default 120 s. */
  requestTimeoutMs?: number
  /** The built dashboard; default the api package's `dashboard/dist`. */
  dashboardDir?: string
}

export interface ApiServer {
  readonly url: string
  readonly port: number
  readonly host: string
  close(): Promise<void>
}

const DEFAULT_DASHBOARD = fileURLToPath(new URL('../../dashboard/dist', import.meta.url))

/** One port for everything: tRPC over HTTP (`/trpc`) and WebSocket, REST (`/v1`), the trustless gateway (`/ipfs`), the dashboard (`/`). */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { node, tokens } = options
  const host = options.host ?? '127.0.0.1'
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024 * 1024
  const dashboardDir = options.dashboardDir ?? DEFAULT_DASHBOARD
  const listening: { url: string } = { url: '' }
  const principalFor = (token: string | undefined): Principal | null => {
    try {
      return principalOf(tokens, token)
    } catch (err) {
      // The details (the token file's path and what is wrong with it) are for the node's operator, not its callers.
      console.error(`vsdb serve: ${(err as Error).message}`)
      throw new VsdbError('UNAVAILABLE', 'this node cannot check tokens now (its token file is not valid)')
    }
  }
  /** A context whose principal is checked again whenever the tokens change (one per WebSocket connection). */
  const liveContext = (token: string | undefined): ApiContext => {
    let version = tokens.version?.()
    let principal = principalFor(token)
    return {
      node,
      tokens,
      principal,
      listening,
      principalNow() {
        const now = tokens.version?.()
        if (now === undefined || now !== version) {
          principal = principalFor(token)
          version = now
        }
        return principal
      },
    }
  }
  /** A context for one request, valid while the tokens stay as they are. */
  const fixedContext = (token: string | undefined): ApiContext => {
    const principal = principalFor(token)
    return { node, tokens, principal, listening, principalNow: () => principal }
  }
  const anonymous = fixedContext(undefined)

  // One context per keep-alive connection and bearer token, made again whenever the tokens change (a revocation
  // counts at once): checking the token itself on every request (a regex, a sha-256, a lookup) cost ~25 µs of a
  // ~0.35 ms query over HTTP here. A store without versions is asked on every request.
  const contexts = new WeakMap<object, { authorization: Buffer; version: number; ctx: ApiContext }>()
  const requestContext = (req: IncomingMessage): ApiContext => {
    const authorization = req.headers.authorization
    if (authorization === undefined) return anonymous
    const version = tokens.version?.()
    if (version === undefined) return fixedContext(bearerToken(req))
    const known = contexts.get(req.socket)
    const presented = Buffer.from(authorization)
    if (known !== undefined && known.version === version && sameBytes(known.authorization, presented)) return known.ctx
    const ctx = fixedContext(bearerToken(req))
    contexts.set(req.socket, { authorization: presented, version, ctx })
    return ctx
  }

  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: '/trpc/',
    maxBodySize: maxBodyBytes,
    // Queries by POST as well: the typed client sends a query too long for a URL (a large vector) that way.
    allowMethodOverride: true,
    createContext: ({ req }) => requestContext(req),
  })
  const trpcFast = createTrpcFastPath({
    router: appRouter,
    basePath: '/trpc/',
    maxBodySize: maxBodyBytes,
    createContext: requestContext,
  })
  const rest = createRestHandler(maxBodyBytes)
  const gateway = createGatewayHandler(node.log)

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = req.url ?? '/'
    const plain = plainTarget(target, '/trpc/')
    if (plain !== null) return (await trpcFast(req, res, plain)) ? undefined : trpc(req, res)
    const url = new URL(target, 'http://localhost')
    const path = url.pathname
    if (path === '/trpc' || path.startsWith('/trpc/')) return (await trpcFast(req, res, url)) ? undefined : trpc(req, res)
    if (path.startsWith('/v1/')) return await rest(req, res, url, requestContext(req))
    if (path.startsWith('/ipfs/')) {
      requireScope(requestContext(req).principal, 'read')
      return await gateway(req, res)
    }
    if ((req.method === 'GET' || req.method === 'HEAD') && (await serveStatic(dashboardDir, path, res, req.method === 'HEAD'))) return
    sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `no route ${path}` } })
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => sendError(res, err))
  })
  server.requestTimeout = options.requestTimeoutMs ?? 120_000
  server.headersTimeout = 20_000
  server.keepAliveTimeout = 30_000

  const wss = new WebSocketServer({ noServer: true, maxPayload: maxBodyBytes })
  const ws = applyWSSHandler({
    wss,
    router: appRouter,
    keepAlive: { enabled: true, pingMs: 30_000, pongWaitMs: 10_000 },
    // JSON text as tRPC sends it, and binary calls (an observation frame for `ingestFrame`) as bytes, not base64.
    experimental_encoder: socketEncoder,
    // Browsers cannot set headers on a WebSocket: the token comes as a connection parameter instead.
    createContext: ({ req, info }) => {
      const param = info.connectionParams?.token
      return liveContext(bearerToken(req) ?? (typeof param === 'string' ? param : undefined))
    },
  })
  server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    if (path !== '/trpc' && path !== '/trpc/') {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n')
      return
    }
    wss.handleUpgrade(req, socket, head, (client) => wss.emit('connection', client, req))
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => resolve())
  })
  const { port } = server.address() as AddressInfo
  listening.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`

  return {
    url: listening.url,
    port,
    host,
    async close() {
      ws.broadcastReconnectNotification()
      for (const client of wss.clients) client.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** Whether two Authorization headers are the same, in time that does not depend on where they differ. */
function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

import type { IncomingMessage, ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { exportCar, importCar, VsdbError } from '@vsdb/log'
import { appRouter } from '../router/app-router.ts'
import type { ApiContext } from '../router/context.ts'
import { createCallerFactory } from '../router/trpc.ts'
import { requireScope } from './auth.ts'
import { readJsonBody } from './body.ts'
import { sendJson } from './http-errors.ts'

const createCaller = createCallerFactory(appRouter)
type Caller = ReturnType<typeof createCaller>

/** Query-string values as the procedures' inputs expect them: numbers where a number is meant. */
const NUMERIC = new Set(['minAnomaly', 'limit', 'k'])
function queryParams(url: URL): Record<string, string | number> {
  const out: Record<string, string | number> = {}
  for (const [key, value] of url.searchParams) {
    const n = Number(value)
    out[key] = NUMERIC.has(key) && value.trim() !== '' && Number.isFinite(n) ? n : value
  }
  return out
}

interface Route {
  method: 'GET' | 'POST'
  pattern: RegExp
  run(call: Caller, match: RegExpExecArray, req: IncomingMessage, res: ServerResponse, url: URL, ctx: ApiContext): Promise<unknown>
}

/**
 * The plain REST routes for curl, each a thin door to the same procedure as `/trpc` (same input checks, same
 * scopes), except the CAR routes, which stream bytes as they are.
 */
function routes(bodyLimit: number): Route[] {
  const json = (req: IncomingMessage) => readJsonBody(req, bodyLimit)
  return [
    { method: 'GET', pattern: /^\/v1\/cluster\/status$/, run: (c) => c.status() },
    { method: 'GET', pattern: /^\/v1\/entities$/, run: (c) => c.entities() },
    {
      method: 'GET',
      pattern: /^\/v1\/entities\/([^/]+)\/observations$/,
      run: (c, m, _q, _s, url) => c.read({ ...queryParams(url), entity: decodeURIComponent(m[1] as string) } as never),
    },
    { method: 'GET', pattern: /^\/v1\/segments$/, run: (c, _m, _q, _s, url) => c.segments(queryParams(url) as never) },
    { method: 'GET', pattern: /^\/v1\/segments\/([^/]+)$/, run: (c, m) => c.segment({ cid: decodeURIComponent(m[1] as string) }) },
    { method: 'GET', pattern: /^\/v1\/alerts$/, run: (c, _m, _q, _s, url) => c.alerts(queryParams(url) as never) },
    { method: 'GET', pattern: /^\/v1\/alerts\/open$/, run: (c, _m, _q, _s, url) => c.openAlerts(queryParams(url) as never) },
    {
      method: 'POST',
      pattern: /^\/v1\/query$/,
      // The scope first: a caller without it never gets a body buffered or parsed.
      run: async (c, _m, req, _res, _url, ctx) => {
        requireScope(ctx.principal, 'read')
        return c.query((await json(req)) as never)
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\/ingest$/,
      run: async (c, _m, req, _res, _url, ctx) => {
        requireScope(ctx.principal, 'write')
        return c.ingest((await json(req)) as never)
      },
    },
    { method: 'GET', pattern: /^\/v1\/digest$/, run: (c) => c.digest() },
    { method: 'GET', pattern: /^\/v1\/audit$/, run: (c) => c.audit() },
    {
      method: 'GET',
      pattern: /^\/v1\/export$/,
      run: async (_c, _m, _req, res, _url, ctx) => {
        requireScope(ctx.principal, 'admin')
        const car = await exportCar(ctx.node.log)
        res.writeHead(200, {
          'content-type': 'application/vnd.ipld.car; version=1',
          'content-disposition': 'attachment; filename="vsdb-export.car"',
        })
        await pipeline(Readable.from(car.out), res)
        await car.done
        return undefined
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\/import$/,
      run: async (_c, _m, req, _res, _url, ctx) => {
        requireScope(ctx.principal, 'admin')
        const result = await importCar(ctx.node.log, req as AsyncIterable<Uint8Array>)
        await ctx.node.refresh()
        return result
      },
    },
  ]
}

export function createRestHandler(bodyLimit: number) {
  const table = routes(bodyLimit)
  return async (req: IncomingMessage, res: ServerResponse, url: URL, ctx: ApiContext): Promise<void> => {
    const matching = table.filter((r) => r.pattern.test(url.pathname))
    if (matching.length === 0) throw new VsdbError('NOT_FOUND', `no route ${url.pathname}`, { field: 'path' })
    const route = matching.find((r) => r.method === req.method)
    if (route === undefined) {
      res.setHeader('allow', matching.map((r) => r.method).join(', '))
      sendJson(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: `${req.method} is not allowed on ${url.pathname}` } })
      return
    }
    const result = await route.run(createCaller(ctx), route.pattern.exec(url.pathname) as RegExpExecArray, req, res, url, ctx)
    if (!res.headersSent) sendJson(res, 200, result)
  }
}

import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AnyRouter } from '@trpc/server'
import { getHTTPStatusCode } from '@trpc/server/http'
import type { TRPCResponse } from '@trpc/server/rpc'
import {
  type AnyProcedure,
  callProcedure,
  defaultTransformer,
  getErrorShape,
  getProcedureAtPath,
  getTRPCErrorFromUnknown,
  isAsyncIterable,
  isObject,
  isPromise,
  TRPCError,
  transformTRPCResponse,
} from '@trpc/server/unstable-core-do-not-import'
import { readBody } from './body.ts'
import { callThroughChain, middlewaresOf } from './procedure-chain.ts'
import type { RequestTarget } from './request-target.ts'
import { streamOf } from './stream-of.ts'

export interface TrpcFastPathOptions<TRouter extends AnyRouter> {
  router: TRouter
  /** Where tRPC is mounted, e.g. `/trpc/`. */
  basePath: string
  maxBodySize: number
  /** Synchronous: each await on the way to a query costs a turn of the microtask queue. */
  createContext(req: IncomingMessage): TRouter['_def']['_config']['$types']['ctx']
}

type MaybePromise<T> = T | Promise<T>

/** A procedure as the fast path calls it: its middlewares when they can be run directly (procedure-chain.ts). */
interface Found {
  procedure: AnyProcedure
  middlewares: ReturnType<typeof middlewaresOf>
}

const ERROR_SENT = Symbol('error sent')

/** Answers a request of the procedures `found` at `paths`; false, having read nothing, for tRPC's handler to answer it. */
type Answerer = (
  req: IncomingMessage,
  res: ServerResponse,
  url: RequestTarget,
  found: Found[],
  paths: string[],
  batch: boolean,
) => Promise<boolean>

interface Call {
  path: string
  /** The input when known up front (a query's), for error shapes. */
  input: unknown
  getRawInput: () => Promise<unknown>
}

/**
 * Serves tRPC's HTTP wire format (JSON queries by GET, single or batched, and JSON mutations by POST) straight from
 * node:http, the way tRPC's own WebSocket adapter serves it over a socket: `callProcedure`, then `getErrorShape`.
 * tRPC's node adapter turns every request into a WHATWG Request and its answer back from a Response, which costs
 * ~0.3 ms a call here (the same procedure: 0.11 ms behind a plain node:http route, 0.45 ms through the adapter).
 * A mutation's body (JSON, or application/octet-stream for tRPC's octetInputParser) is read whole, within the size
 * limit, when the procedure asks for its input. Returns false, having read nothing, for whatever it does not take
 * (streamed answers, subscriptions, batched mutations, form inputs, a body of unknown or too large a size, a
 * procedure of another type, query input that is not JSON, a path that does not decode): tRPC's handler answers
 * those, with its own errors.
 */
export function createTrpcFastPath<TRouter extends AnyRouter>(options: TrpcFastPathOptions<TRouter>) {
  const { router, basePath, maxBodySize } = options
  const config = router._def._config

  // A procedure by path, found once: each await on the way to a query costs a turn of the microtask queue.
  const procedures = new Map<string, Found>()
  const find = (path: string): MaybePromise<Found | undefined> => {
    const known = procedures.get(path)
    if (known !== undefined) return known
    return getProcedureAtPath(router, path).then((procedure) => {
      if (procedure === null) return undefined
      // Only paths that name a procedure are kept, so that unknown paths cannot grow the map.
      const found = { procedure, middlewares: middlewaresOf(procedure) }
      procedures.set(path, found)
      return found
    })
  }

  const run = async (found: Found, call: Call, index: number, ctx: unknown): Promise<TRPCResponse> => {
    const { procedure, middlewares } = found
    const type = procedure._def.type
    try {
      const chainCall = {
        ctx,
        type,
        path: call.path,
        input: undefined,
        getRawInput: call.getRawInput,
        signal: undefined,
        batchIndex: index,
      }
      const data: unknown =
        middlewares === null
          ? await callProcedure({ router, ...chainCall })
          : await callThroughChain(middlewares, procedure._def.meta, chainCall)
      if (isDataStream(data)) {
        // As tRPC answers it: an error of the request, not of the procedure (no path).
        const error = new TRPCError({
          code: 'UNSUPPORTED_MEDIA_TYPE',
          message: 'Cannot use stream-like response in non-streaming request - use httpBatchStreamLink',
        })
        return { error: getErrorShape({ config, error, type, path: undefined, input: call.input, ctx }) }
      }
      return { result: { data } }
    } catch (cause) {
      const error = getTRPCErrorFromUnknown(cause)
      return { error: getErrorShape({ config, error, type, path: call.path, input: call.input, ctx }) }
    }
  }

  const send = (res: ServerResponse, responses: TRPCResponse[], batch: boolean): void => {
    const status = getHTTPStatusCode(batch ? responses : (responses[0] as TRPCResponse))
    const response = batch ? responses : (responses[0] as TRPCResponse)
    // tRPC's default transformer returns what it is given, but transformTRPCResponse copies every answer to apply it.
    const body = config.transformer === defaultTransformer ? response : transformTRPCResponse(config, response)
    const text = JSON.stringify(body)
    // The same URL may be answered as a stream when asked so: caches must tell the two apart. (Headers as a flat
    // list: node:http takes it as it is, where an object is walked and checked key by key.)
    res.writeHead(status, [
      'content-type',
      'application/json',
      'content-length',
      String(Buffer.byteLength(text)),
      'vary',
      'trpc-accept, accept',
    ])
    res.end(text)
  }

  /** The request's context, or ERROR_SENT once the error of making it is answered (to every call of the batch). */
  const contextOrError = (req: IncomingMessage, res: ServerResponse, paths: string[], batch: boolean): unknown => {
    try {
      return options.createContext(req)
    } catch (cause) {
      const error = getTRPCErrorFromUnknown(cause)
      const shape = getErrorShape({ config, error, type: 'unknown', path: undefined, input: undefined, ctx: undefined })
      send(
        res,
        paths.map(() => ({ error: shape })),
        batch,
      )
      return ERROR_SENT
    }
  }

  const answerQueries: Answerer = async (req, res, url, found, paths, batch) => {
    let inputs: unknown[]
    try {
      inputs = parseInputs(url.searchParams.get('input'), paths.length, batch)
    } catch {
      return false
    }
    const ctx = contextOrError(req, res, paths, batch)
    if (ctx === ERROR_SENT) return true
    const calls = paths.map((path, i) => ({ path, input: inputs[i], getRawInput: async () => inputs[i] }))
    send(res, await Promise.all(calls.map((call, i) => run(found[i] as Found, call, i, ctx))), batch)
    return true
  }

  /**
   * One mutation, its body read only when the procedure asks for its input, after the scope check (as tRPC's
   * adapter does): a caller without the right token never gets a body buffered or parsed.
   */
  const answerMutation: Answerer = async (req, res, url, found, paths, batch) => {
    const length = Number(req.headers['content-length'])
    const mediaType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
    const binary = mediaType === 'application/octet-stream'
    if (batch || !Number.isFinite(length) || length > maxBodySize || url.searchParams.has('input')) return false
    if (!binary && mediaType !== 'application/json') return false
    const ctx = contextOrError(req, res, paths, false)
    if (ctx === ERROR_SENT) {
      req.resume()
      return true
    }
    let body: Promise<unknown> | null = null
    const getRawInput = () => {
      body ??= readBody(req, maxBodySize).then((bytes) => (binary ? streamOf(bytes) : parseJsonBody(bytes)))
      return body
    }
    const response = await run(found[0] as Found, { path: paths[0] as string, input: undefined, getRawInput }, 0, ctx)
    if (body === null) req.resume()
    send(res, [response], false)
    return true
  }

  return async (req: IncomingMessage, res: ServerResponse, url: RequestTarget): Promise<boolean> => {
    const type = req.method === 'GET' ? 'query' : req.method === 'POST' ? 'mutation' : undefined
    if (type === undefined || req.headers['trpc-accept'] !== undefined || /application\/jsonl/i.test(req.headers.accept ?? '')) return false
    let paths: string[]
    try {
      paths = url.pathname.slice(basePath.length).split(',').map(decodeURIComponent)
    } catch {
      return false
    }
    const batch = url.searchParams.get('batch') === '1'
    if (paths.length > 1 && !batch) return false
    const found: Found[] = []
    for (const path of paths) {
      const known = find(path)
      const procedure = known instanceof Promise ? await known : known
      if (procedure === undefined) return false
      const kind = procedure.procedure._def.type
      // A POST may call a query (tRPC's method override, which the node's tRPC handler allows too): the client sends
      // a query whose input is too long for a URL that way.
      if (kind !== type && !(type === 'mutation' && kind === 'query')) return false
      found.push(procedure)
    }
    return type === 'query'
      ? await answerQueries(req, res, url, found, paths, batch)
      : await answerMutation(req, res, url, found, paths, batch)
  }
}

function parseJsonBody(bytes: Buffer): unknown {
  if (bytes.length === 0) return undefined
  try {
    return JSON.parse(bytes.toString('utf8'))
  } catch (cause) {
    throw new TRPCError({ code: 'BAD_REQUEST', message: 'the body is not valid JSON', cause })
  }
}

/** tRPC's JSON inputs without a transformer: one value, or for a batch an object keyed by each call's index. */
function parseInputs(raw: string | null, count: number, batch: boolean): unknown[] {
  const value: unknown = raw === null || raw === '' ? undefined : JSON.parse(raw)
  if (!batch) return [value]
  if (value === undefined) return Array.from({ length: count }, () => undefined)
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('a batch input must be an object')
  const byIndex = value as Record<string, unknown>
  return Array.from({ length: count }, (_, i) => byIndex[i])
}

/** What tRPC streams and so refuses to answer as plain JSON (its own rule, from its own predicates). */
function isDataStream(value: unknown): boolean {
  if (!isObject(value)) return false
  return isAsyncIterable(value) || Object.values(value).some((v) => isPromise(v) || isAsyncIterable(v))
}

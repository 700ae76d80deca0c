import { TRPCClientError, type TRPCLink } from '@trpc/client'
import type { AnyRouter } from '@trpc/server'
import { observable } from '@trpc/server/observable'
import { type Answer, deliverAnswer } from './deliver-answer.ts'
import type { HttpTransport } from './http-transport.ts'

interface Pending {
  /** The procedure path and the JSON input, each already URL-encoded (the input undefined when there is none). */
  path: string
  input: string | undefined
  /** The input's JSON as it is, for a POST. */
  json: string | undefined
  signal: AbortSignal | null | undefined
  /** Whether the caller has its answer already (or gave up): such a call is not sent. */
  settled: () => boolean
  resolve: (envelope: unknown) => void
  reject: (err: unknown) => void
}

/** Queries per request at most. */
const MAX_ITEMS = 32
/**
 * The longest URL a GET gets: node:http refuses request heads over 16 KiB (431), as do proxies at 8 KiB. Longer
 * batches are split; a query longer alone (a 1,536-d vector is ~45 kB encoded) goes as a POST with its input as
 * the body, which tRPC servers take with `allowMethodOverride` (this node's does).
 */
const MAX_URL = 8_000

const nextTurn: (fn: () => void) => void =
  typeof setImmediate === 'function' ? (fn) => void setImmediate(fn) : (fn) => void setTimeout(fn, 0)

/** Queries and JSON mutations over HTTP: a tRPC link, and queries made without tRPC's client (the same queue). */
export interface HttpCalls<TRouter extends AnyRouter> {
  link: TRPCLink<TRouter>
  /**
   * A query's data, or a TRPCClientError as tRPC's client would reject with: what the typed client calls for
   * `.query()` over HTTP, ~20–30 µs sooner per call on loopback than through tRPC's client (its proxy, operation chain
   * and observables), a tenth of what the API adds to a query.
   */
  query(path: string, input: unknown, signal?: AbortSignal | null): Promise<unknown>
}

/**
 * Queries and JSON mutations over HTTP in tRPC's own wire format, so the server is the standard one: the queries
 * made in one turn of the event loop go as one GET (`/trpc/a,b?batch=1&input={"0":…,"1":…}`), as tRPC's
 * httpBatchLink sends them (one query alone as a plain GET), and a mutation goes at once as a POST. Unlike
 * httpBatchLink, the batch goes on `setImmediate` rather than `setTimeout(0)`, which Node makes last at least 1 ms,
 * most of a query's time on loopback (tRPC offers no option for it), and through a transport of the caller's choice.
 */
export function httpCalls<TRouter extends AnyRouter>(options: {
  url: string
  headers: Record<string, string>
  transport: HttpTransport
}): HttpCalls<TRouter> {
  const { url, headers, transport } = options
  let queue: Pending[] = []
  let scheduled = false

  const exchange = async (items: Pending[], request: Parameters<HttpTransport>[0], batch: boolean): Promise<void> => {
    let body: unknown
    try {
      const response = await transport(request)
      const notTrpc = () =>
        new Error(`the server answered ${response.status} without a tRPC ${batch ? 'batch' : 'answer'}: ${response.text.slice(0, 200)}`)
      try {
        body = JSON.parse(response.text)
      } catch {
        throw notTrpc()
      }
      const answered = (x: unknown) => typeof x === 'object' && x !== null && ('result' in x || 'error' in x)
      if (batch ? !Array.isArray(body) || body.length !== items.length || !body.every(answered) : !answered(body)) throw notTrpc()
    } catch (err) {
      for (const item of items) item.reject(TRPCClientError.from(err as Error))
      return
    }
    for (const [i, item] of items.entries()) item.resolve(batch ? (body as unknown[])[i] : body)
  }

  /** One GET for the queries of a batch (each answered on its own), or for a query alone its plain GET. */
  const sendQueries = (items: Pending[]): Promise<void> => {
    if (items.length === 1) return sendQuery(items[0] as Pending)
    const signals = items.map((i) => i.signal).filter((s): s is AbortSignal => s != null)
    // One caller giving up must not cancel the others' answers: the request stops only when all have.
    const all = signals.length === items.length ? allAborted(signals) : undefined
    return exchange(items, { method: 'GET', url: batchUrl(url, items), headers, signal: all?.signal }, true).finally(() => all?.forget())
  }

  /** A query alone in its turn goes as tRPC's plain GET, or as a POST when its input is too long for a URL. */
  const sendQuery = (item: Pending): Promise<void> => {
    const signal = item.signal ?? undefined
    const get = `${url}/${item.path}${item.input === undefined ? '' : `?input=${item.input}`}`
    if (get.length <= MAX_URL) return exchange([item], { method: 'GET', url: get, headers, signal }, false)
    return exchange([item], { method: 'POST', url: `${url}/${item.path}`, headers, body: item.json ?? '', signal }, false)
  }

  const flush = (): void => {
    scheduled = false
    const items = queue.filter((item) => !item.settled())
    queue = []
    let batch: Pending[] = []
    let length = url.length + BATCH_URL_OVERHEAD
    for (const item of items) {
      const added = item.path.length + (item.input?.length ?? 0) + ITEM_URL_OVERHEAD
      if (batch.length > 0 && (batch.length === MAX_ITEMS || length + added > MAX_URL)) {
        void sendQueries(batch)
        batch = []
        length = url.length + BATCH_URL_OVERHEAD
      }
      batch.push(item)
      length += added
    }
    if (batch.length > 0) void sendQueries(batch)
  }

  /**
   * Sends a call (a query in the next batch, a mutation at once) for `onAnswer`; `onError` gets a transport error,
   * an input that does not encode, or at once the caller's giving up, whatever becomes of the request it shares.
   * Returns a function that forgets it.
   */
  const call = (
    type: 'query' | 'mutation',
    path: string,
    input: unknown,
    signal: AbortSignal | null | undefined,
    onAnswer: (answer: Answer) => void,
    onError: (err: unknown) => void,
  ): (() => void) => {
    let done = false
    const finish = (): boolean => {
      if (done) return false
      done = true
      signal?.removeEventListener('abort', onAbort)
      return true
    }
    const onAbort = () => {
      if (finish()) onError(TRPCClientError.from(new Error('The operation was aborted')))
    }
    if (signal?.aborted) {
      onAbort()
      return () => {}
    }
    const bytes = input instanceof Uint8Array
    let encodedPath: string
    let json: string | undefined
    try {
      // Here, not when the batch goes: an input JSON cannot carry (a BigInt, a cycle) fails its own call alone.
      encodedPath = encodeURIComponent(path)
      if (bytes && type === 'query') throw new TypeError('a query takes JSON input, not bytes')
      json = input === undefined || bytes ? undefined : JSON.stringify(input)
      // A function or a symbol has no JSON: sent as no input at all, it would call the procedure with none.
      if (input !== undefined && !bytes && json === undefined) throw new TypeError(`${typeof input} input has no JSON`)
    } catch (err) {
      if (finish()) onError(TRPCClientError.from(err as Error))
      return () => {}
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    const pending: Pending = {
      path: encodedPath,
      input: json === undefined ? undefined : encodeURIComponent(json),
      json,
      signal,
      settled: () => done,
      resolve: (envelope) => {
        if (finish()) onAnswer(envelope as Answer)
      },
      reject: (err) => {
        if (finish()) onError(err)
      },
    }
    if (type === 'mutation') {
      // A mutation without input still says it is JSON (as tRPC's httpLink does), with an empty body.
      const body = bytes ? input : (json ?? '')
      void exchange([pending], { method: 'POST', url: `${url}/${encodedPath}`, headers, body, signal: signal ?? undefined }, false)
    } else {
      queue.push(pending)
      if (!scheduled) {
        scheduled = true
        nextTurn(flush)
      }
    }
    return () => void finish()
  }

  const link: TRPCLink<TRouter> =
    () =>
    ({ op }) =>
      observable((observer) => {
        if (op.type === 'subscription') {
          observer.error(TRPCClientError.from(new Error('httpCalls takes queries and mutations, not subscriptions')))
          return
        }
        return call(
          op.type,
          op.path,
          op.input,
          op.signal,
          (answer) => deliverAnswer(observer, answer),
          (err) => observer.error(err as TRPCClientError<TRouter>),
        )
      })

  return {
    link,
    query: (path, input, signal) =>
      new Promise((resolve, reject) => {
        call(
          'query',
          path,
          input,
          signal,
          (answer) => {
            if (answer.error !== undefined) reject(TRPCClientError.from(answer as { error: never }))
            else resolve(answer.result?.data)
          },
          reject,
        )
      }),
  }
}

/** `?batch=1&input=` and the braces around the inputs, encoded. */
const BATCH_URL_OVERHEAD = '/?batch=1&input=%7B%7D'.length
/** A path's comma, and `"N":` and the comma between inputs, encoded. */
const ITEM_URL_OVERHEAD = 1 + '%22NN%22%3A%2C'.length

/**
 * tRPC's batch GET for `items`: `/a,b?batch=1&input={"0":…,"1":…}`, URL-encoded. The inputs were encoded on their
 * own, and encoding is character by character, so they are joined as they are.
 */
function batchUrl(url: string, items: Pending[]): string {
  const inputs: string[] = []
  for (const [i, item] of items.entries()) if (item.input !== undefined) inputs.push(`%22${i}%22%3A${item.input}`)
  return `${url}/${items.map((i) => i.path).join(',')}?batch=1&input=%7B${inputs.join('%2C')}%7D`
}

/**
 * A signal that aborts once every one of `signals` has (tRPC's httpBatchLink does the same), and a function that
 * takes its listeners off them again: a caller's signal may outlive many requests.
 */
function allAborted(signals: AbortSignal[]): { signal: AbortSignal; forget(): void } {
  const controller = new AbortController()
  let left = signals.length
  const one = () => {
    if (--left === 0) controller.abort()
  }
  for (const signal of signals) {
    if (signal.aborted) one()
    else signal.addEventListener('abort', one, { once: true })
  }
  const forget = (): void => {
    for (const signal of signals) signal.removeEventListener('abort', one)
  }
  return { signal: controller.signal, forget }
}

import { TRPCClientError, type TRPCLink } from '@trpc/client'
import type { AnyRouter } from '@trpc/server'
import { observable } from '@trpc/server/observable'
import { type Answer, deliverAnswer } from './deliver-answer.ts'
import type { HttpTransport } from './http-transport.ts'

interface Pending {
  path: string
  input: unknown
  signal: AbortSignal | null | undefined
  resolve: (envelope: unknown) => void
  reject: (err: unknown) => void
}

/** Queries per request at most (the URL carries their inputs). */
const MAX_ITEMS = 32

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
      body = JSON.parse(response.text)
      const answered = (x: unknown) => typeof x === 'object' && x !== null && ('result' in x || 'error' in x)
      if (batch ? !Array.isArray(body) || body.length !== items.length || !body.every(answered) : !answered(body)) {
        throw new Error(
          `the server answered ${response.status} without a tRPC ${batch ? 'batch' : 'answer'}: ${response.text.slice(0, 200)}`,
        )
      }
    } catch (err) {
      for (const item of items) item.reject(TRPCClientError.from(err as Error))
      return
    }
    for (const [i, item] of items.entries()) item.resolve(batch ? (body as unknown[])[i] : body)
  }

  const sendQueries = (items: Pending[]): Promise<void> => {
    if (items.length === 1) return sendQuery(items[0] as Pending)
    const inputs: Record<string, unknown> = {}
    for (const [i, item] of items.entries()) if (item.input !== undefined) inputs[i] = item.input
    const paths = items.map((i) => encodeURIComponent(i.path)).join(',')
    const signals = items.map((i) => i.signal).filter((s): s is AbortSignal => s != null)
    // One caller giving up must not cancel the others' answers: the request stops only when all have.
    return exchange(
      items,
      {
        method: 'GET',
        url: `${url}/${paths}?batch=1&input=${encodeURIComponent(JSON.stringify(inputs))}`,
        headers,
        signal: signals.length === items.length ? allAborted(signals) : undefined,
      },
      true,
    )
  }

  /** A query alone in its turn goes as tRPC's plain GET: no batch to wrap around it and unwrap on both ends. */
  const sendQuery = (item: Pending): Promise<void> => {
    const query = item.input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(item.input))}`
    return exchange(
      [item],
      { method: 'GET', url: `${url}/${encodeURIComponent(item.path)}${query}`, headers, signal: item.signal ?? undefined },
      false,
    )
  }

  const flush = (): void => {
    scheduled = false
    const items = queue
    queue = []
    for (let i = 0; i < items.length; i += MAX_ITEMS) void sendQueries(items.slice(i, i + MAX_ITEMS))
  }

  /**
   * Sends a call (a query in the next batch, a mutation at once) for `onAnswer`; `onError` gets a transport error,
   * or at once the caller's giving up, whatever becomes of the request it shares. Returns a function that forgets it.
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
    const pending: Pending = {
      path,
      input,
      signal,
      resolve: (envelope) => {
        if (finish()) onAnswer(envelope as Answer)
      },
      reject: (err) => {
        if (finish()) onError(err)
      },
    }
    const onAbort = () => pending.reject(TRPCClientError.from(new Error('The operation was aborted')))
    if (signal?.aborted) {
      onAbort()
      return () => {}
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    if (type === 'mutation') {
      // A mutation without input still says it is JSON (as tRPC's httpLink does), with an empty body.
      const body = input === undefined ? '' : input instanceof Uint8Array ? input : JSON.stringify(input)
      void exchange(
        [pending],
        { method: 'POST', url: `${url}/${encodeURIComponent(path)}`, headers, body, signal: signal ?? undefined },
        false,
      )
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

/** A signal that aborts once every one of `signals` has (tRPC's httpBatchLink does the same). */
function allAborted(signals: AbortSignal[]): AbortSignal {
  const controller = new AbortController()
  let left = signals.length
  const one = () => {
    if (--left === 0) controller.abort()
  }
  for (const signal of signals) {
    if (signal.aborted) one()
    else signal.addEventListener('abort', one, { once: true })
  }
  return controller.signal
}

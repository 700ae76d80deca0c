import { Agent, type Dispatcher } from 'undici'
import { contentTypeOf, type HttpTransport } from './http-transport.ts'

/** What a request path may not carry as it is: spaces, controls, non-ASCII. */
const UNENCODED = /[^\x21-\x7e]/

/**
 * HTTP with keep-alive through undici's dispatcher, the layer under both its `request` and `fetch`: the answer's
 * bytes come to callbacks, with no stream, Response or ClientRequest made per call. On loopback here a query's round
 * trip took ~50 µs less than through node:http with a keep-alive agent (and ~0.2–0.5 ms less than through `fetch`),
 * a quarter of what the API adds to a query.
 */
export function undiciTransport(): { transport: HttpTransport; close(): void } {
  const agent = new Agent({ keepAliveTimeout: 10_000 })
  const transport: HttpTransport = ({ method, url, headers, body, signal }) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortError(signal))
        return
      }
      const pathAt = url.indexOf('/', url.indexOf('//') + 2)
      const raw = pathAt === -1 ? '/' : url.slice(pathAt)
      const options: Dispatcher.DispatchOptions = {
        origin: pathAt === -1 ? url : url.slice(0, pathAt),
        // The links send encoded paths; a base URL with a space or a non-ASCII letter in it is encoded here, as a URL would be.
        path: UNENCODED.test(raw) ? encodedPath(url) : raw,
        method,
        headers: body === undefined ? headers : { ...headers, 'content-type': contentTypeOf(body) },
        body,
      }
      const chunks: Buffer[] = []
      let status = 0
      let controller: Dispatcher.DispatchController | undefined
      let done = false
      const settle = (finish: () => void): void => {
        if (done) return
        done = true
        signal?.removeEventListener('abort', onAbort)
        finish()
      }
      // Before the request starts (a connection still opening) there is nothing to abort yet: the caller is
      // answered at once, and the request aborted as soon as it starts.
      const onAbort = (): void => {
        const reason = abortError(signal as AbortSignal)
        if (controller !== undefined) controller.abort(reason)
        else settle(() => reject(reason))
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      agent.dispatch(options, {
        onRequestStart(started) {
          controller = started
          if (done) started.abort(abortError(signal as AbortSignal))
        },
        onResponseStart(_controller, statusCode) {
          status = statusCode
        },
        onResponseData(_controller, chunk) {
          chunks.push(chunk)
        },
        onResponseEnd() {
          const text = chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8')
          settle(() => resolve({ status, text }))
        },
        onResponseError(_controller, error) {
          settle(() => reject(error))
        },
      })
    })
  return {
    transport,
    close() {
      void agent.destroy()
    },
  }
}

function encodedPath(url: string): string {
  const { pathname, search } = new URL(url)
  return pathname + search
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('The operation was aborted', 'AbortError')
}

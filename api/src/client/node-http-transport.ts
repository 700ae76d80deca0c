import { Agent as UndiciAgent } from 'undici'
import { contentTypeOf, type HttpTransport } from './http-transport.ts'

/** What a request path may not carry as it is: spaces, controls, non-ASCII. */
const UNENCODED = /[^\x21-\x7e]/

/**
 * HTTP with keep-alive through undici's dispatcher API: in Node, `fetch` (undici behind the WHATWG layer) costs
 * ~0.2–0.5 ms more per call on loopback than this, and node:http's client (its Agent, ClientRequest and URL
 * handling) ~20 µs more, of a query's ~0.3 ms.
 */
export function nodeHttpTransport(): { transport: HttpTransport; close(): void } {
  const dispatcher = new UndiciAgent({ keepAliveTimeout: 10_000 })
  const transport: HttpTransport = async ({ method, url, headers, body, signal }) => {
    const pathAt = url.indexOf('/', url.indexOf('//') + 2)
    const origin = pathAt === -1 ? url : url.slice(0, pathAt)
    const raw = pathAt === -1 ? '/' : url.slice(pathAt)
    // The links send encoded paths; a base URL with a space or a non-ASCII letter in it is encoded here, as a URL would be.
    const path = UNENCODED.test(raw) ? encodedPath(url) : raw
    const response = await dispatcher.request({
      origin,
      path,
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': contentTypeOf(body) },
      body,
      signal,
    })
    return { status: response.statusCode, text: await response.body.text() }
  }
  return {
    transport,
    close() {
      // Requests in flight end now (as node:http's agents did when destroyed), rather than when they finish.
      void dispatcher.destroy()
    },
  }
}

function encodedPath(url: string): string {
  const { pathname, search } = new URL(url)
  return pathname + search
}

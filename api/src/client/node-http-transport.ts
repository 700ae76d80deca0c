import { Agent, type IncomingMessage, request } from 'node:http'
import { request as requestTls, Agent as TlsAgent } from 'node:https'
import { contentTypeOf, type HttpTransport } from './http-transport.ts'

/** What a request path may not carry as it is: spaces, controls, non-ASCII. */
const UNENCODED = /[^\x21-\x7e]/

interface Origin {
  tls: boolean
  hostname: string
  port: number | undefined
}

/**
 * HTTP over node:http with keep-alive: in Node, `fetch` (undici behind the WHATWG layer) costs ~0.2–0.5 ms more
 * per call on loopback than node:http, as much again as the server's share of a query. Requests go out as options
 * rather than URLs: node:http parsing a URL string costs ~30 µs of a call's ~85 µs on the client, so each origin is
 * parsed once.
 */
export function nodeHttpTransport(): { transport: HttpTransport; close(): void } {
  const agents = { http: new Agent({ keepAlive: true }), https: new TlsAgent({ keepAlive: true }) }
  const origins = new Map<string, Origin>()
  const originOf = (origin: string): Origin => {
    let known = origins.get(origin)
    if (known === undefined) {
      const url = new URL(origin)
      // An IPv6 literal stays bracketed in a URL, not in a host to connect to.
      known = {
        tls: url.protocol === 'https:',
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port === '' ? undefined : Number(url.port),
      }
      origins.set(origin, known)
    }
    return known
  }
  const transport: HttpTransport = ({ method, url, headers, body, signal }) =>
    new Promise((resolve, reject) => {
      const pathAt = url.indexOf('/', url.indexOf('//') + 2)
      const { tls, hostname, port } = originOf(pathAt === -1 ? url : url.slice(0, pathAt))
      const bodyHeaders =
        body === undefined ? {} : { 'content-type': contentTypeOf(body), 'content-length': String(Buffer.byteLength(body)) }
      const raw = pathAt === -1 ? '/' : url.slice(pathAt)
      // The links send encoded paths; a base URL with a space or a non-ASCII letter in it is encoded here, as a URL would be.
      const path = UNENCODED.test(raw) ? encodedPath(url) : raw
      const options = {
        hostname,
        port,
        path,
        method,
        headers: { ...headers, ...bodyHeaders },
        agent: tls ? agents.https : agents.http,
        signal,
      }
      const onResponse = (res: IncomingMessage) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }))
        res.on('error', reject)
      }
      const req = tls ? requestTls(options, onResponse) : request(options, onResponse)
      req.on('error', reject)
      req.end(body)
    })
  return {
    transport,
    close() {
      agents.http.destroy()
      agents.https.destroy()
    },
  }
}

function encodedPath(url: string): string {
  const { pathname, search } = new URL(url)
  return pathname + search
}

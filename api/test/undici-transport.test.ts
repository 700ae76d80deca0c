import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { undiciTransport } from '../src/client/undici-transport.ts'

const seen: { url: string; method: string; type: string | undefined; body: string }[] = []
const server = createServer((req, res) => {
  let body = ''
  req.setEncoding('utf8')
  req.on('data', (chunk: string) => {
    body += chunk
  })
  req.on('end', () => {
    seen.push({ url: req.url ?? '', method: req.method ?? '', type: req.headers['content-type'], body })
    if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2_000)
    if (req.url === '/chunks') {
      // No content-length: chunked, in three writes a tick apart.
      res.write('{"a":')
      setTimeout(() => res.write('"é'), 5)
      return void setTimeout(() => res.end('"}'), 10)
    }
    if (req.url === '/missing') res.statusCode = 404
    res.end(req.method === 'POST' ? body : '{}')
  })
})
let origin = ''
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => {
  server.closeAllConnections()
  server.close()
})

describe('undici transport', () => {
  it('sends encoded paths as they are, and encodes a base path with a space or a non-ASCII letter as a URL would', async () => {
    const http = undiciTransport()
    seen.length = 0
    try {
      const input = encodeURIComponent(JSON.stringify({ 0: { k: 1 } }))
      for (const path of [`/trpc/query?batch=1&input=${input}`, `/my proxy/trpc/query?input=${input}`, `/noeud-é/trpc/counts`]) {
        expect(await http.transport({ method: 'GET', url: `${origin}${path}`, headers: {} })).toEqual({ status: 200, text: '{}' })
      }
      expect(seen.map((s) => s.url)).toEqual([
        `/trpc/query?batch=1&input=${input}`,
        `/my%20proxy/trpc/query?input=${input}`,
        '/noeud-%C3%A9/trpc/counts',
      ])
    } finally {
      http.close()
    }
  })

  it('posts JSON text and bytes with their content types, and gives statuses and chunked bodies whole', async () => {
    const http = undiciTransport()
    seen.length = 0
    try {
      expect(await http.transport({ method: 'POST', url: `${origin}/m`, headers: { x: '1' }, body: '{"n":1}' })).toEqual({
        status: 200,
        text: '{"n":1}',
      })
      const bytes = new TextEncoder().encode('raw')
      expect(await http.transport({ method: 'POST', url: `${origin}/b`, headers: {}, body: bytes })).toEqual({ status: 200, text: 'raw' })
      expect(seen.map((s) => s.type)).toEqual(['application/json', 'application/octet-stream'])
      expect(await http.transport({ method: 'GET', url: `${origin}/missing`, headers: {} })).toEqual({ status: 404, text: '{}' })
      expect(await http.transport({ method: 'GET', url: `${origin}/chunks`, headers: {} })).toEqual({ status: 200, text: '{"a":"é"}' })
    } finally {
      http.close()
    }
  })

  it('gives up on a request whose signal aborts, before it is sent or while it waits, with the signal’s reason', async () => {
    const http = undiciTransport()
    try {
      const before = AbortSignal.abort(new Error('gave up early'))
      await expect(http.transport({ method: 'GET', url: `${origin}/`, headers: {}, signal: before })).rejects.toThrow('gave up early')
      const controller = new AbortController()
      const waiting = http.transport({ method: 'GET', url: `${origin}/slow`, headers: {}, signal: controller.signal })
      setTimeout(() => controller.abort(new Error('gave up waiting')), 50)
      await expect(waiting).rejects.toThrow('gave up waiting')
      // The transport still serves after an aborted request.
      expect(await http.transport({ method: 'GET', url: `${origin}/`, headers: {} })).toEqual({ status: 200, text: '{}' })
    } finally {
      http.close()
    }
  })

  it('fails a request to a port nobody listens on', async () => {
    const http = undiciTransport()
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    try {
      await expect(http.transport({ method: 'GET', url: `http://127.0.0.1:${port}/`, headers: {} })).rejects.toThrow(/ECONNREFUSED/)
    } finally {
      http.close()
    }
  })
})

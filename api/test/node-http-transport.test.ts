import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nodeHttpTransport } from '../src/client/node-http-transport.ts'

const seen: string[] = []
const server = createServer((req, res) => {
  seen.push(req.url ?? '')
  res.end('{}')
})
let origin = ''
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => {
  server.close()
})

describe('node:http transport', () => {
  it('sends encoded paths as they are, and encodes a base path with a space or a non-ASCII letter as a URL would', async () => {
    const http = nodeHttpTransport()
    try {
      const input = encodeURIComponent(JSON.stringify({ 0: { k: 1 } }))
      for (const path of [`/trpc/query?batch=1&input=${input}`, `/my proxy/trpc/query?input=${input}`, `/noeud-é/trpc/counts`]) {
        expect(await http.transport({ method: 'GET', url: `${origin}${path}`, headers: {} })).toEqual({ status: 200, text: '{}' })
      }
      expect(seen).toEqual([`/trpc/query?batch=1&input=${input}`, `/my%20proxy/trpc/query?input=${input}`, '/noeud-%C3%A9/trpc/counts'])
    } finally {
      http.close()
    }
  })
})

import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readBody } from '../src/server/body.ts'

const LIMIT = 256 * 1024
/** What readBody gave for each request, by the request's path. */
const outcomes = new Map<string, Promise<Buffer>>()
const server = createServer((req: IncomingMessage, res) => {
  const read = readBody(req, LIMIT)
  outcomes.set(req.url ?? '', read)
  read.then(
    (body) => res.end(String(body.length)),
    (err: Error) => {
      res.statusCode = 413
      res.end(err.message)
    },
  )
})
let port = 0
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
})
afterAll(() => {
  server.closeAllConnections()
  server.close()
})

/** Sends `parts` as the body of a POST to `path`, with a content-length or chunked, and gives the answer. */
function post(path: string, parts: Buffer[], declared: boolean): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const total = parts.reduce((n, p) => n + p.length, 0)
    const req = request({ port, host: '127.0.0.1', path, method: 'POST', headers: declared ? { 'content-length': total } : {} }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => {
        text += c
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
    })
    req.on('error', reject)
    for (const part of parts) req.write(part)
    req.end()
  })
}

describe('readBody', () => {
  it('reads a body whole, declared or chunked, in many pieces', async () => {
    const parts = Array.from({ length: 7 }, () => randomBytes(30_000))
    for (const declared of [true, false]) {
      const path = `/whole-${declared}`
      expect(await post(path, parts, declared)).toEqual({ status: 200, text: '210000' })
      expect(Buffer.compare(await (outcomes.get(path) as Promise<Buffer>), Buffer.concat(parts))).toBe(0)
    }
  })

  it('refuses a body past the limit, declared up front or found while reading, and answers on the same connection', async () => {
    const big = [randomBytes(LIMIT), randomBytes(10)]
    expect(await post('/declared', big, true)).toMatchObject({ status: 413, text: expect.stringContaining(`${LIMIT} bytes`) })
    expect(await post('/chunked', big, false)).toMatchObject({ status: 413, text: expect.stringContaining(`${LIMIT} bytes`) })
  })

  it('fails, rather than waits forever, when the client goes before its body ends', async () => {
    const req = request({ port, host: '127.0.0.1', path: '/cut', method: 'POST', headers: { 'content-length': 100_000 } })
    req.on('error', () => {})
    req.write(randomBytes(1_000))
    await expect.poll(() => outcomes.has('/cut')).toBe(true)
    req.destroy()
    await expect(outcomes.get('/cut')).rejects.toThrow()
  })
})

import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { createClientOver } from '../src/client/create-client.ts'
import type { HttpTransport } from '../src/client/http-transport.ts'
import { undiciTransport } from '../src/client/undici-transport.ts'
import { recordingClient, useFixture } from './api-fixture.ts'

const f = useFixture({ seed: { entity: 'calls-a', rows: 600 } })

/** The typed client over HTTP, recording each request's method, path and URL length. */
function recorded(token: string) {
  const sent: { method: string; path: string; batch: boolean; urlLength: number }[] = []
  const client = recordingClient(f.server.url, token, (request: Parameters<HttpTransport>[0]) => {
    const { pathname, searchParams } = new URL(request.url)
    sent.push({ method: request.method, path: pathname, batch: searchParams.has('batch'), urlLength: request.url.length })
  })
  return { client, sent }
}

describe('queries over HTTP', () => {
  it('sends a query too long for a URL as a POST, and splits a batch too long for one URL', async () => {
    const { client, sent } = recorded(f.tokens.read)
    try {
      // 2-d vectors are this node's; a query vector of another length is refused by the engine, in both forms alike.
      const long = { vector: Array.from({ length: 3_000 }, (_, i) => i / 7), k: 3 }
      const near = { vector: [1, 0.5], k: 3 }
      const [refusedLong, answered] = await Promise.allSettled([client.query.query(long), client.query.query(near)])
      expect(refusedLong).toMatchObject({ status: 'rejected', reason: { data: { code: 'BAD_REQUEST', field: 'vector' } } })
      expect(answered).toMatchObject({ status: 'fulfilled', value: f.node.query(near) })
      expect(sent.map((s) => s.method).sort()).toEqual(['GET', 'POST'])
      // Twelve queries in one turn, every other one ~2,000 URL characters long (a vector the node refuses): several
      // GETs, each under the limit, and each query its own answer.
      sent.length = 0
      const queries = Array.from({ length: 12 }, (_, q) =>
        q % 2 === 0 ? { vector: [1, 0.5], k: 1 + q / 2 } : { vector: Array.from({ length: 150 }, (_, i) => q + i / 3), k: 2 },
      )
      const outcomes = await Promise.allSettled(queries.map((query) => client.query.query(query)))
      for (const [q, outcome] of outcomes.entries()) {
        if (q % 2 === 0) expect(outcome).toEqual({ status: 'fulfilled', value: f.node.query(queries[q] as typeof near) })
        else expect(outcome).toMatchObject({ status: 'rejected', reason: { data: { code: 'BAD_REQUEST', field: 'vector' } } })
      }
      expect(sent.length).toBeGreaterThan(1)
      expect(sent.every((s) => s.method === 'GET' && s.urlLength <= 8_000)).toBe(true)
    } finally {
      await client.close()
    }
  })

  it('fails a query whose input JSON cannot carry on its own, sends the rest, and skips a query given up while queued', async () => {
    const { client, sent } = recorded(f.tokens.read)
    try {
      const controller = new AbortController()
      const calls = [
        client.query.query({ vector: [1, 0.5], k: 2 }),
        client.query.query({ vector: [1, 0.5], k: 2n } as unknown as { vector: number[]; k: number }),
        client.counts.query(undefined, { signal: controller.signal }),
      ]
      controller.abort()
      const [answered, unencodable, gaveUp] = await Promise.allSettled(calls)
      expect(answered).toMatchObject({ status: 'fulfilled', value: f.node.query({ vector: [1, 0.5], k: 2 }) })
      expect(unencodable).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/BigInt/) } })
      expect(gaveUp).toMatchObject({ status: 'rejected', reason: { message: 'The operation was aborted' } })
      expect(sent.map((s) => `${s.method} ${s.path}`)).toEqual(['GET /trpc/query'])
      // An input with no JSON (a function) or bytes for a query fails its call, rather than going as no input.
      const odd = [() => 1, new Uint8Array([1])] as unknown as { vector: number[] }[]
      for (const input of odd) await expect(client.query.query(input)).rejects.toThrow(/has no JSON|not bytes/)
      expect(sent).toHaveLength(1)
    } finally {
      await client.close()
    }
  })

  it('names the status of an answer that is not tRPC’s', async () => {
    const server = createServer((_req, res) => {
      res.statusCode = 502
      res.end('<html>bad gateway</html>')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const http = undiciTransport()
    const client = createClientOver({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 't' }, http)
    try {
      await expect(client.counts.query()).rejects.toThrow('the server answered 502 without a tRPC answer: <html>bad gateway</html>')
    } finally {
      await client.close()
      server.close()
    }
  })
})

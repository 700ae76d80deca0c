import { request } from 'node:http'
import { describe, expect, it } from 'vitest'
import { createClient } from '../src/client/node-client.ts'
import { observations, useFixture } from './api-fixture.ts'

const f = useFixture({ seed: { entity: 'truck', rows: 1200 } })

interface Answer {
  status: number
  body: unknown
  /** tRPC's own handler streams its answer (chunked); the fast path sends it whole, with its length. */
  chunked: boolean
}

/**
 * The request twice: as clients send it (the fast path takes it) and with `trpc-accept: application/json`, which
 * means the same to tRPC but makes the fast path hand the request to tRPC's own handler.
 */
async function both(path: string, init: { method?: string; token?: string; body?: string } = {}): Promise<[Answer, Answer]> {
  const once = async (headers: Record<string, string>): Promise<Answer> => {
    const response = await fetch(`${f.server.url}${path}`, {
      method: init.method ?? 'GET',
      body: init.body,
      headers: {
        ...headers,
        ...(init.token === undefined ? {} : { authorization: `Bearer ${init.token}` }),
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
    })
    return { status: response.status, body: await response.json(), chunked: response.headers.get('transfer-encoding') === 'chunked' }
  }
  return [await once({}), await once({ 'trpc-accept': 'application/json' })]
}

const input = (value: unknown) => encodeURIComponent(JSON.stringify(value))

describe('the tRPC fast path', () => {
  it('answers queries, batches and mutations exactly as tRPC’s own handler does, errors included', async () => {
    const segment = f.node.segments({ entity: 'truck' })[0]!
    const cases: [string, Parameters<typeof both>[1]][] = [
      ['/trpc/entities', { token: f.tokens.read }],
      [`/trpc/query?input=${input({ like: segment.cid, k: 3 })}`, { token: f.tokens.read }],
      [`/trpc/query?input=${input({ like: segment.cid, k: 0 })}`, { token: f.tokens.read }],
      [
        `/trpc/entities,query,segment?batch=1&input=${input({ 1: { like: segment.cid, k: 2 }, 2: { cid: segment.cid } })}`,
        { token: f.tokens.read },
      ],
      [`/trpc/entities,query?batch=1&input=${input({ 1: { vector: [1, 'x'], k: 2 } })}`, { token: f.tokens.read }],
      ['/trpc/entities', {}],
      ['/trpc/export', { token: f.tokens.admin }],
      ['/trpc/tokens.list', { token: f.tokens.read }],
      [
        '/trpc/ingest',
        { method: 'POST', token: f.tokens.write, body: JSON.stringify({ observations: [{ entity: 'x', ts: 1, vector: ['a'] }] }) },
      ],
      ['/trpc/ingest', { method: 'POST', token: f.tokens.read, body: JSON.stringify({ observations: observations('y', 0, 3) }) }],
      ['/trpc/ingest', { method: 'POST', token: f.tokens.write, body: '{"observations": [' }],
    ]
    for (const [path, init] of cases) {
      const [fast, own] = await both(path, init)
      expect(own.chunked, path).toBe(true)
      expect(fast.chunked, `${path} took the fast path`).toBe(false)
      expect(fast.status, path).toBe(own.status)
      if (init?.body?.endsWith('[')) {
        // tRPC's message quotes JSON.parse's; the code and status are the same.
        const codeOf = (a: Answer) => (a.body as { error: { data: { code: string } } }).error.data.code
        expect(codeOf(fast)).toBe(codeOf(own))
        continue
      }
      expect(fast.body, path).toEqual(own.body)
    }
  })

  it('hands tRPC what it does not take: a mutation by GET, an unknown procedure, input that is not JSON, a bad escape', async () => {
    for (const path of ['/trpc/ingest', '/trpc/nope', '/trpc/query?input=%7Bnot-json', '/trpc/%E0%A4%A']) {
      const [fast, own] = await both(path, { token: f.tokens.admin })
      expect(fast.chunked, path).toBe(true)
      expect(fast.status, path).toBe(own.status)
      expect(fast.status, path).toBeGreaterThanOrEqual(400)
    }
  })

  it('applies a successful mutation once and answers with its result', async () => {
    const response = await fetch(`${f.server.url}/trpc/ingest`, {
      method: 'POST',
      headers: { authorization: `Bearer ${f.tokens.write}`, 'content-type': 'application/json' },
      body: JSON.stringify({ observations: observations('van', 0, 300) }),
    })
    expect(response.headers.get('transfer-encoding')).toBeNull()
    expect(response.status).toBe(200)
    const body = (await response.json()) as { result: { data: { rows: number; entities: string[] } } }
    expect(body.result.data).toMatchObject({ rows: 300, entities: ['van'] })
    expect(f.node.segments({ entity: 'van' }).length).toBe(1)
  })

  it('answers a caller without the right token before reading its body, and leaves other content types to tRPC', async () => {
    // A body that never comes: a 401 or 403 must not wait for it.
    for (const token of [undefined, f.tokens.read]) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${f.server.url}/trpc/ingest`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': '1000000',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
        })
        req.on('response', (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
          req.destroy()
        })
        req.on('error', reject)
        req.write('{"observations": [')
      })
      expect(status).toBe(token === undefined ? 401 : 403)
    }
    const before = f.node.log.head()?.seq
    for (const contentType of [undefined, 'application/json-patch+json', 'text/plain']) {
      const response = await fetch(`${f.server.url}/trpc/ingest`, {
        method: 'POST',
        headers: { authorization: `Bearer ${f.tokens.write}`, ...(contentType ? { 'content-type': contentType } : {}) },
        body: new TextEncoder().encode(JSON.stringify({ observations: observations('ct', 0, 3) })),
      })
      expect(response.headers.get('transfer-encoding'), String(contentType)).toBe('chunked')
      await response.body?.cancel()
    }
    expect(f.node.log.head()?.seq).toBe(before)
  })

  it('lets one caller of a batch give up without cancelling the others', async () => {
    const client = createClient({ url: f.server.url, token: f.tokens.read })
    try {
      const giveUp = new AbortController()
      const kept = client.entities.query()
      const dropped = client.digest.query(undefined, { signal: giveUp.signal })
      giveUp.abort()
      await expect(dropped).rejects.toThrow()
      expect((await kept).map((e) => e.entity)).toContain('truck')
    } finally {
      await client.close()
    }
  })
})

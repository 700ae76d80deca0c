import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ApiFixture, observations, startFixture } from './api-fixture.ts'

let f: ApiFixture
beforeAll(async () => {
  f = await startFixture()
  await f.node.ingestRows(observations('truck', 0, 1200))
})
afterAll(async () => {
  await f.close()
})

interface Answer {
  status: number
  body: unknown
  /** tRPC's own handler varies its answers on `trpc-accept`; the fast path sends no such header. */
  vary: string | null
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
    return { status: response.status, body: await response.json(), vary: response.headers.get('vary') }
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
      expect(own.vary, path).not.toBeNull()
      expect(fast.vary, `${path} took the fast path`).toBeNull()
      expect(fast.status, path).toBe(own.status)
      if (init?.body?.endsWith('[')) {
        expect((fast.body as { error: { data: { code: string } } }).error.data.code).toBe('PARSE_ERROR')
        continue
      }
      expect(fast.body, path).toEqual(own.body)
    }
  })

  it('hands tRPC what it does not take: a mutation by GET, an unknown procedure, input that is not JSON', async () => {
    for (const path of ['/trpc/ingest', '/trpc/nope', '/trpc/query?input=%7Bnot-json']) {
      const [fast, own] = await both(path, { token: f.tokens.admin })
      expect(fast.vary, path).not.toBeNull()
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
    expect(response.headers.get('vary')).toBeNull()
    expect(response.status).toBe(200)
    const body = (await response.json()) as { result: { data: { rows: number; entities: string[] } } }
    expect(body.result.data).toMatchObject({ rows: 300, entities: ['van'] })
    expect(f.node.segments({ entity: 'van' }).length).toBe(1)
  })
})

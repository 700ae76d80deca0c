import { readFile, rename, writeFile } from 'node:fs/promises'
import { Agent, get as httpGet } from 'node:http'
import { join } from 'node:path'
import { clusterStatusSchema } from '@vsdb/engine'
import { describe, expect, it } from 'vitest'
import { createClient } from '../src/client/node-client.ts'
import { startApiServer } from '../src/server/http-server.ts'
import { openTokenStore } from '../src/tokens/index.ts'
import { observations, recordingClient, useFixture } from './api-fixture.ts'

const f = useFixture({ maxBodyBytes: 4 * 1024 * 1024 })

interface ErrorBody {
  error: { code: string; message: string; field?: string }
}
const errorOf = async (response: Response) => ((await response.json()) as ErrorBody).error

const rest = (path: string, init: RequestInit & { token?: string } = {}) =>
  fetch(`${f.server.url}${path}`, {
    ...init,
    headers: {
      ...(init.token === undefined ? {} : { authorization: `Bearer ${init.token}` }),
      ...(init.headers as Record<string, string>),
    },
  })

describe('API over HTTP and WebSocket', () => {
  it('ingests through the typed client, seals segments, and answers every read procedure with the node’s own values', async () => {
    const client = createClient({ url: f.server.url, token: f.tokens.write })
    try {
      const summary = await client.ingest.mutate({ observations: observations('truck', 0, 1500) })
      expect(summary).toMatchObject({ rows: 1500, entities: ['truck'] })
      expect(summary.segments).toBeGreaterThan(0)
      const [entities, segments, digest, counts] = await Promise.all([
        client.entities.query(),
        client.segments.query({ entity: 'truck' }),
        client.digest.query(),
        client.counts.query(),
      ])
      expect(entities.map((e) => e.entity)).toEqual(['truck'])
      expect(segments).toEqual(f.node.segments({ entity: 'truck' }))
      expect(digest).toEqual(f.node.digest())
      expect(counts.segments).toBe(segments.length)
      const first = segments[0]!
      expect(await client.segment.query({ cid: first.cid })).toEqual(first)
      const hits = await client.query.query({ like: first.cid, k: 3 })
      expect(hits).toEqual(f.node.query({ like: first.cid, k: 3 }))
      const rows = await client.read.query({ entity: 'truck', from: 1_700_000_000_000, to: 1_700_000_009_000 })
      expect(rows.map((r) => r.ts)).toEqual(Array.from({ length: 10 }, (_, i) => 1_700_000_000_000 + i * 1000))
      const open = await client.openAlerts.query({ entity: 'truck' })
      expect(open).toEqual(await f.node.openAlerts('truck'))
      const status = await client.status.query()
      expect(clusterStatusSchema.parse(status).members[0]?.node_id).toBe(f.node.log.node)
    } finally {
      await client.close()
    }
  })

  it('answers queries and mutations over one WebSocket (transport ws) as over HTTP', async () => {
    const overHttp = createClient({ url: f.server.url, token: f.tokens.write })
    const overSocket = createClient({ url: f.server.url, token: f.tokens.write, transport: 'ws' })
    try {
      const summary = await overSocket.ingest.mutate({ observations: observations('bus', 0, 600) })
      expect(summary).toMatchObject({ rows: 600, entities: ['bus'] })
      const [segments, viaHttp] = await Promise.all([
        overSocket.segments.query({ entity: 'bus' }),
        overHttp.segments.query({ entity: 'bus' }),
      ])
      expect(segments.length).toBeGreaterThan(1)
      expect(segments).toEqual(viaHttp)
      const like = segments[0]!.cid
      expect(await overSocket.query.query({ like, k: 2 })).toEqual(await overHttp.query.query({ like, k: 2 }))
      await expect(overSocket.query.query({ like, k: 0 })).rejects.toMatchObject({ data: { code: 'BAD_REQUEST', field: 'k' } })
    } finally {
      await overHttp.close()
      await overSocket.close()
    }
  })

  it('serves GET /v1/cluster/status in the seed’s exact shape, 401 without a token and 403 with too narrow a scope', async () => {
    const ok = await rest('/v1/cluster/status', { token: f.tokens.read })
    expect(ok.status).toBe(200)
    const status = clusterStatusSchema.parse(await ok.json())
    expect(status).toMatchObject({ node_count: 1, topology: 'standalone' })
    expect(status.members[0]?.entities).toBe(f.node.views.entities().filter((e) => e.observations > 0).length)

    const none = await rest('/v1/cluster/status')
    expect(none.status).toBe(401)
    expect((await errorOf(none)).code).toBe('UNAUTHORIZED')
    const forged = await rest('/v1/cluster/status', { token: `${f.tokens.admin.slice(0, -2)}xx` })
    expect(forged.status).toBe(401)
    const narrow = await rest('/v1/ingest', {
      token: f.tokens.read,
      method: 'POST',
      body: JSON.stringify({ observations: observations('x', 0, 1) }),
    })
    expect(narrow.status).toBe(403)
    expect((await errorOf(narrow)).code).toBe('FORBIDDEN')
    // The scope is checked before the body is read: one that is not even JSON gets a 401 without a token, not a 400.
    const unread = await rest('/v1/ingest', { method: 'POST', body: '{"observations": [' })
    expect(unread.status).toBe(401)
    expect((await rest('/v1/query', { token: `vsdb_000000000000_${'x'.repeat(43)}`, method: 'POST', body: '{' })).status).toBe(401)
    const trpcNarrow = await rest('/trpc/audit', { token: f.tokens.write })
    expect(trpcNarrow.status).toBe(403)
    expect((await rest('/trpc/status')).status).toBe(401)
  })

  it('gives the typed client the error code and field of a refused call, batched queries each their own answer', async () => {
    const reader = createClient({ url: f.server.url, token: f.tokens.read })
    const stranger = createClient({ url: f.server.url, token: `vsdb_000000000000_${'x'.repeat(43)}` })
    try {
      const [digest, refused, bad] = await Promise.allSettled([
        reader.digest.query(),
        reader.audit.query(),
        reader.query.query({ vector: [1, 2], k: 0 }),
      ])
      expect(digest).toMatchObject({ status: 'fulfilled', value: f.node.digest() })
      expect(refused).toMatchObject({ status: 'rejected', reason: { data: { code: 'FORBIDDEN' } } })
      expect(bad).toMatchObject({ status: 'rejected', reason: { data: { code: 'BAD_REQUEST', field: 'k' } } })
      await expect(stranger.entities.query()).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } })
    } finally {
      await reader.close()
      await stranger.close()
    }
  })

  it('sends the queries of one turn as one batched GET, and a query alone as a plain GET, with the same answers', async () => {
    const sent: string[] = []
    const client = recordingClient(f.server.url, f.tokens.read, (request) => {
      const { pathname, searchParams } = new URL(request.url)
      sent.push(`${pathname}${searchParams.has('batch') ? ' batch' : ''}`)
    })
    try {
      const probe = { vector: [1, 2], k: 3 }
      expect(await client.query.query(probe)).toEqual(f.node.query(probe))
      const [counts, hits, bad] = await Promise.allSettled([
        client.counts.query(),
        client.query.query(probe),
        client.query.query({ vector: [1, 2], k: 0 }),
      ])
      expect(counts).toMatchObject({ status: 'fulfilled', value: f.node.views.counts() })
      expect(hits).toMatchObject({ status: 'fulfilled', value: f.node.query(probe) })
      expect(bad).toMatchObject({ status: 'rejected', reason: { data: { code: 'BAD_REQUEST', field: 'k' } } })
      await expect(client.query.query({ vector: [1, 2], k: 0 })).rejects.toMatchObject({ data: { code: 'BAD_REQUEST', field: 'k' } })
      expect(sent).toEqual(['/trpc/query', '/trpc/counts,query,query batch', '/trpc/query'])
    } finally {
      await client.close()
    }
  })

  it('checks the token of every request on a keep-alive connection: another token, none, or one revoked elsewhere', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const get = (authorization: string | undefined) =>
      new Promise<{ status: number; reused: boolean; body: string }>((resolve, reject) => {
        const headers = authorization === undefined ? {} : { authorization: `Bearer ${authorization}` }
        const req = httpGet(`${f.server.url}/trpc/tokens.list`, { agent, headers }, (res) => {
          let body = ''
          res.on('data', (chunk: Buffer) => {
            body += chunk.toString()
          })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket, body }))
        })
        req.on('error', reject)
      })
    try {
      // A second store on the same file, as `vsdb token create|revoke` in another process.
      const cli = openTokenStore(f.dir)
      const made = await cli.create('admin', 'keep-alive')
      expect((await get(made.token)).status).toBe(200)
      const answers = [await get(f.tokens.read), await get(undefined), await get(`${made.token.slice(0, -1)}x`), await get(made.token)]
      expect(answers.map((a) => a.status)).toEqual([403, 401, 401, 200])
      expect(answers.every((a) => a.reused)).toBe(true)
      await cli.revoke(made.info.id)
      const after = await get(made.token)
      expect(after).toMatchObject({ status: 401, reused: true })
      expect(JSON.parse(after.body).error.data.code).toBe('UNAUTHORIZED')
    } finally {
      agent.destroy()
    }
  })

  it('serves the admin procedures: tokens made, listed and revoked, replay digest, raw retention, alerts', async () => {
    const admin = createClient({ url: f.server.url, token: f.tokens.admin })
    try {
      const made = await admin.tokens.create.mutate({ scope: 'read', label: 'from the api' })
      expect(made.info).toMatchObject({ scope: 'read', label: 'from the api', revoked: null })
      const fresh = createClient({ url: f.server.url, token: made.token })
      expect(await fresh.digest.query()).toEqual(f.node.digest())
      expect((await admin.tokens.list.query()).map((t) => t.id)).toContain(made.info.id)
      expect((await admin.tokens.revoke.mutate({ id: made.info.id })).revoked).not.toBeNull()
      await expect(fresh.digest.query()).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } })
      await fresh.close()

      expect(await admin.replayDigest.query()).toEqual(f.node.digest())
      expect(await admin.alerts.query({ entity: 'truck' })).toEqual(f.node.views.alerts({ entity: 'truck' }))
      expect(await admin.retention.query()).toMatchObject({ policy: 'keep', batches: 0 })
      // Two batches: the first is all in sealed segments once the second is in, so it can be released.
      const writer = createClient({ url: f.server.url, token: f.tokens.write })
      await writer.ingest.mutate({ observations: observations('crane', 0, 200) })
      await writer.ingest.mutate({ observations: observations('crane', 200, 400) })
      await writer.close()
      const set = await admin.setRetention.mutate({ policy: 'drop-after-seal' })
      expect(set).toMatchObject({ policy: 'drop-after-seal', changed: true })
      expect((await admin.retention.query()).batches).toBeGreaterThan(0)
      expect((await admin.audit.query()).ok).toBe(true)
      await admin.setRetention.mutate({ policy: 'keep' })
      await expect(admin.setRetention.mutate({ policy: 'never' as 'keep' })).rejects.toMatchObject({
        data: { code: 'BAD_REQUEST', field: 'policy' },
      })
    } finally {
      await admin.close()
    }
  })

  it('answers bad input with a 400 naming the field, and writes nothing', async () => {
    const before = f.node.digest()
    const post = (path: string, body: string, token = f.tokens.write) =>
      rest(path, { token, method: 'POST', body, headers: { 'content-type': 'application/json' } })
    const malformed = await post('/v1/ingest', '{"observations": [')
    expect(malformed.status).toBe(400)
    expect(await errorOf(malformed)).toMatchObject({ code: 'INVALID_INPUT', field: 'body' })

    const wrongType = await post(
      '/v1/ingest',
      JSON.stringify({ observations: [{ entity: 'truck', ts: 1_700_000_000_000, vector: [1, 'two'] }] }),
    )
    expect(wrongType.status).toBe(400)
    expect((await errorOf(wrongType)).field).toBe('observations.0.vector.1')

    const wrongDim = await post(
      '/v1/ingest',
      JSON.stringify({ observations: [{ entity: 'truck', ts: 1_700_000_000_000, vector: [1, 2, 3] }] }),
    )
    expect(wrongDim.status).toBe(400)
    expect(await errorOf(wrongDim)).toMatchObject({ field: 'observations.0.vector', message: expect.stringContaining('expected 2, got 3') })

    const badK = await post('/v1/query', JSON.stringify({ vector: [1, 2], k: 0 }), f.tokens.read)
    expect(badK.status).toBe(400)
    expect((await errorOf(badK)).field).toBe('k')
    const unknownEntity = await post('/v1/query', JSON.stringify({ vector: [1, 2], k: 3, entity: 'nobody' }), f.tokens.read)
    expect(unknownEntity.status).toBe(404)

    const oversized = await post('/v1/ingest', JSON.stringify({ observations: observations('big', 0, 60_000) }))
    expect(oversized.status).toBe(413)
    const oversizedTrpc = await post('/trpc/ingest', JSON.stringify({ observations: observations('big', 0, 60_000) }))
    expect(oversizedTrpc.status).toBe(413)

    const trpcBad = await post('/trpc/ingest', JSON.stringify({ observations: [{ entity: 'truck', ts: 'yesterday', vector: [1, 2] }] }))
    expect(trpcBad.status).toBe(400)
    const trpcError = ((await trpcBad.json()) as { error: { data: { field: string } } }).error
    expect(trpcError.data.field).toBe('observations.0.ts')
    expect(f.node.digest()).toEqual(before)

    // The node keeps serving.
    expect((await rest('/v1/digest', { token: f.tokens.read })).status).toBe(200)
  })

  it('pushes a segment sealed after subscribing to a WebSocket subscriber, and anomalies above a threshold', async () => {
    const client = createClient({ url: f.server.url, token: f.tokens.read })
    const writer = createClient({ url: f.server.url, token: f.tokens.write })
    try {
      const received: string[] = []
      const alerts: number[] = []
      let done!: () => void
      const arrived = new Promise<void>((resolve) => (done = resolve))
      const segmentSub = client.onSegment.subscribe(
        { entity: 'drone' },
        {
          onData: (segment) => {
            received.push(segment.cid)
            if (received.length >= 2) done()
          },
        },
      )
      const anomalySub = client.onAnomaly.subscribe({ entity: 'drone', threshold: 0.5 }, { onData: (a) => alerts.push(a.score) })
      // Let the subscriptions reach the server before anything is sealed.
      await new Promise((r) => setTimeout(r, 300))
      await writer.ingest.mutate({ observations: observations('drone', 0, 600) })
      await arrived
      const sealed = f.node.segments({ entity: 'drone' })
      expect(received).toEqual(sealed.map((s) => s.cid))
      // Every alert once: those sealed by this ingest with their segment, then those of the open segment at once.
      const expectedAlerts = [
        ...sealed.flatMap((s) => s.alerts.filter((a) => a.score >= 0.5).map((a) => a.score)),
        ...(await f.node.openAlerts('drone')).map((a) => a.score),
      ]
      expect(expectedAlerts.length).toBeGreaterThan(0)
      for (let waited = 0; alerts.length < expectedAlerts.length && waited < 5000; waited += 50) await new Promise((r) => setTimeout(r, 50))
      segmentSub.unsubscribe()
      anomalySub.unsubscribe()
      expect(alerts).toEqual(expectedAlerts)
    } finally {
      await client.close()
      await writer.close()
    }
  })

  it('stops a token revoked elsewhere on an open WebSocket: its next call, and its subscription before the next item', async () => {
    const cli = openTokenStore(f.dir)
    const made = await cli.create('read', 'ws-revoke')
    const client = createClient({ url: f.server.url, token: made.token, transport: 'ws' })
    const writer = createClient({ url: f.server.url, token: f.tokens.write })
    try {
      expect(await client.counts.query()).toMatchObject({ segments: expect.any(Number) })
      const items: string[] = []
      let ended!: (err: unknown) => void
      const error = new Promise<unknown>((resolve) => (ended = resolve))
      const sub = client.onSegment.subscribe({ entity: 'revoked-feed' }, { onData: (s) => items.push(s.cid), onError: ended })
      await new Promise((r) => setTimeout(r, 300))
      await cli.revoke(made.info.id)
      await writer.ingest.mutate({ observations: observations('revoked-feed', 0, 600) })
      expect(f.node.segments({ entity: 'revoked-feed' }).length).toBeGreaterThan(0)
      expect(await error).toMatchObject({ data: { code: 'UNAUTHORIZED' } })
      expect(items).toEqual([])
      sub.unsubscribe()
      await expect(client.counts.query()).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } })
    } finally {
      await client.close()
      await writer.close()
    }
  })

  it('answers a broken token file without its details: 401 without a token, a 5xx naming no path, and the process keeps serving', async () => {
    const store = openTokenStore(f.dir)
    const local = store.ephemeral('read')
    const file = join(f.dir, 'tokens.json')
    const good = await readFile(file)
    const call = async (token: string | undefined) => {
      const response = await fetch(
        `${f.server.url}/trpc/counts`,
        token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } },
      )
      return { status: response.status, text: await response.text() }
    }
    const server = await startApiServer({ node: f.node, tokens: store })
    const callLocal = async () => (await fetch(`${server.url}/trpc/counts`, { headers: { authorization: `Bearer ${local}` } })).status
    try {
      await writeFile(`${file}.tmp`, '{"format": 1, "tokens": [')
      await rename(`${file}.tmp`, file)
      const errors = console.error
      console.error = () => {}
      try {
        expect((await call(undefined)).status).toBe(401)
        const broken = await call(f.tokens.read)
        expect(broken.status).toBeGreaterThanOrEqual(500)
        expect(broken.text).not.toContain(f.dir)
        expect(await callLocal()).toBe(200)
      } finally {
        console.error = errors
      }
    } finally {
      await writeFile(`${file}.tmp`, good)
      await rename(`${file}.tmp`, file)
      await server.close()
    }
    expect((await call(f.tokens.read)).status).toBe(200)
  })

  it('streams a CAR export over REST and over tRPC with the same bytes, and refuses a token-less WebSocket call', async () => {
    const rest1 = await rest('/v1/export', { token: f.tokens.admin })
    expect(rest1.status).toBe(200)
    const bytes = Buffer.from(await rest1.arrayBuffer())
    const admin = createClient({ url: f.server.url, token: f.tokens.admin })
    const noToken = createClient({ url: f.server.url, token: 'nope', transport: 'ws' })
    try {
      const chunks: Buffer[] = []
      for await (const chunk of await admin.export.query()) chunks.push(Buffer.from(chunk, 'base64'))
      expect(Buffer.concat(chunks).equals(bytes)).toBe(true)
      await expect(noToken.status.query()).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } })
      const audit = await admin.audit.query()
      expect(audit).toMatchObject({ ok: true })
    } finally {
      await admin.close()
      await noToken.close()
    }
  })
})

import { describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { createClientOver } from '../src/client/create-client.ts'
import type { SocketClass } from '../src/client/socket-call-link.ts'
import { undiciTransport } from '../src/client/undici-transport.ts'
import { decodeObservationFrame } from '../src/router/observation-frame-input.ts'
import { encodeObservationFrame, frameColumns } from '../src/wire/observation-frame.ts'
import { decodeSocketCall, encodeSocketCall } from '../src/wire/socket-call.ts'
import { observations, recordingClient, useFixture } from './api-fixture.ts'

const f = useFixture()

const postFrame = async (bytes: Uint8Array, token = f.tokens.write) => {
  const response = await fetch(`${f.server.url}/trpc/ingestFrame`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
    body: bytes as Uint8Array<ArrayBuffer>,
  })
  return {
    status: response.status,
    body: (await response.json()) as { error?: { message: string; data: { code: string; field?: string } } },
  }
}

describe('ingest as one binary frame', () => {
  it('the typed client sends plain batches as a frame: the node keeps exactly what the JSON path keeps', async () => {
    const posted: string[] = []
    const client = recordingClient(f.server.url, f.tokens.write, (request) => {
      if (request.method === 'POST') posted.push(`${new URL(request.url).pathname} ${typeof request.body}`)
    })
    try {
      const rows = observations('framed', 0, 700)
      const framed = await client.ingest.mutate({ observations: rows })
      const json = await client.ingest.mutate({ observations: rows.map((r) => ({ ...r, entity: 'as-json', meta: { via: 'json' } })) })
      expect(posted).toEqual(['/trpc/ingestFrame object', '/trpc/ingest string'])
      expect(framed).toMatchObject({ rows: 700, entities: ['framed'] })
      expect(json).toMatchObject({ rows: 700, entities: ['as-json'] })
      const strip = (entity: string) =>
        f.node.segments({ entity }).map(({ from, to, count, centroid, anomaly, alerts, codec, errorBound }) => ({
          from,
          to,
          count,
          centroid,
          anomaly,
          alerts,
          codec,
          errorBound,
        }))
      expect(strip('framed')).toEqual(strip('as-json'))
      const framedRows = await client.read.query({ entity: 'framed' })
      expect(framedRows.map((r) => [r.ts, ...r.vector])).toEqual(
        (await client.read.query({ entity: 'as-json' })).map((r) => [r.ts, ...r.vector]),
      )
    } finally {
      await client.close()
    }
  })

  it('keeps rows in order across entities, with the batch’s entity for rows without one, and names a bad row as JSON does', async () => {
    const rows = [
      { ts: 1_700_000_000_000, vector: [1, 2] },
      { entity: 'other', ts: 1_700_000_000_000, vector: [5] },
      { ts: 1_700_000_001_000, vector: [3, 4] },
    ]
    const bytes = encodeObservationFrame(rows, 'dflt')
    expect(bytes).not.toBeNull()
    const ok = await postFrame(bytes as Uint8Array)
    expect(ok.status).toBe(200)
    expect(f.node.views.entity('dflt')?.observations).toBe(2)
    expect(f.node.views.entity('other')?.observations).toBe(1)

    const bad = encodeObservationFrame([...rows, { ts: 1_700_000_002_000, vector: [Number.NaN, 1] }], 'dflt') as Uint8Array
    const refused = await postFrame(bad)
    expect(refused.status).toBe(400)
    expect(refused.body.error?.data.field).toBe('observations.3.vector.0')
    expect(f.node.views.entity('dflt')?.observations).toBe(2)
  })

  it('refuses a frame that does not add up, naming the field, and writes nothing', async () => {
    const good = encodeObservationFrame(observations('frame-bad', 0, 10)) as Uint8Array
    const before = f.node.log.head()?.seq
    const withHeader = (header: unknown) => {
      const text = new TextEncoder().encode(JSON.stringify(header))
      const out = new Uint8Array(16 + text.length)
      out.set(good.subarray(0, 8))
      new DataView(out.buffer).setUint32(8, text.length, true)
      out.set(text, 12)
      return out
    }
    const cases: [Uint8Array, string][] = [
      [new TextEncoder().encode('not a frame at all'), 'body'],
      [good.subarray(0, good.length - 8), 'body'],
      [withHeader({ count: 0, entities: ['a'], dims: [1] }), 'header.count'],
      [withHeader({ count: 1, entities: ['a'], dims: [0] }), 'header.dims.0'],
      [withHeader({ count: 1, entities: ['a', 'b'], dims: [1] }), 'header.dims'],
      [withHeader({ count: 1, entities: ['a'], dims: [1], extra: true }), 'header'],
    ]
    for (const [bytes, field] of cases) {
      const { status, body } = await postFrame(bytes)
      expect(status, field).toBe(400)
      expect(body.error?.data.field, field).toBe(field)
    }
    expect((await postFrame(good, f.tokens.read)).status).toBe(403)
    expect(f.node.log.head()?.seq).toBe(before)
    expect(f.node.views.entity('frame-bad')).toBeUndefined()
  })

  it('over a WebSocket, the typed client sends the frame as one binary message, with the same rows and errors', async () => {
    const sent: string[] = []
    class RecordingSocket extends WebSocket {
      override send(data: string | Uint8Array) {
        if (typeof data !== 'string') {
          sent.push(`binary ${decodeSocketCall(data).path}`)
        } else {
          const message = JSON.parse(data) as { method?: string; params?: { path: string } }
          if (message.method === 'mutation') sent.push(`text ${message.params?.path}`)
        }
        super.send(data)
      }
    }
    const http = undiciTransport()
    const client = createClientOver(
      { url: f.server.url, token: f.tokens.write, transport: 'ws' },
      http,
      RecordingSocket as unknown as SocketClass,
    )
    try {
      const rows = observations('framed-ws', 0, 300)
      expect(await client.ingest.mutate({ observations: rows })).toMatchObject({ rows: 300, entities: ['framed-ws'] })
      await client.ingest.mutate({ observations: [{ entity: 'framed-ws-meta', ts: 1_700_000_000_000, vector: [1], meta: { k: 'v' } }] })
      expect(sent).toEqual(['binary ingestFrame', 'text ingest'])
      expect((await client.read.query({ entity: 'framed-ws' })).map((r) => r.ts)).toEqual(rows.map((r) => r.ts))
      // A bad value is named where it is, as the JSON path names it, and nothing of the batch is kept.
      const before = f.node.views.entity('framed-ws')?.observations
      const bad = [...observations('framed-ws', 300, 3), { entity: 'framed-ws', ts: 1, vector: [1, Number.NaN] }]
      const refused = await client.ingest.mutate({ observations: bad }).catch((err: { data?: { field?: string } }) => err)
      expect((refused as { data?: { field?: string } }).data?.field).toBe('observations.3.vector.1')
      expect(f.node.views.entity('framed-ws')?.observations).toBe(before)
    } finally {
      await client.close()
    }
  })

  it('a binary WebSocket call is answered under its id, an error too; a binary message that is no call leaves the socket serving', async () => {
    const socket = new WebSocket(`${f.server.url.replace(/^http/, 'ws')}/trpc?connectionParams=1`)
    const answers = new Map<unknown, { result?: { data: { rows: number } }; error?: { data: { field?: string; code: string } } }>()
    const arrived: (() => void)[] = []
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { id?: unknown }
      answers.set(message.id ?? null, message as never)
      for (const wake of arrived.splice(0)) wake()
    })
    const answer = async (id: unknown) => {
      while (!answers.has(id)) await new Promise<void>((resolve) => arrived.push(resolve))
      return answers.get(id)
    }
    await new Promise<void>((resolve) => socket.once('open', () => resolve()))
    socket.send(JSON.stringify({ method: 'connectionParams', data: { token: f.tokens.write } }))
    try {
      const frame = encodeObservationFrame(observations('socket-binary', 0, 40)) as Uint8Array
      socket.send(encodeSocketCall(7, 'ingestFrame', frame))
      expect((await answer(7))?.result?.data.rows).toBe(40)
      // A frame that does not hold together: the usual 400, under the call's id.
      socket.send(encodeSocketCall(8, 'ingestFrame', frame.subarray(0, frame.length - 8)))
      expect((await answer(8))?.error?.data).toMatchObject({ code: 'BAD_REQUEST', field: 'body' })
      // Bytes to a procedure that takes JSON: refused under its id, nothing written.
      socket.send(encodeSocketCall(9, 'ingest', frame))
      expect((await answer(9))?.error?.data.code).toBe('BAD_REQUEST')
      socket.send(Buffer.from('no call at all'))
      expect((await answer(null))?.error?.data.code).toBe('PARSE_ERROR')
      socket.send(encodeSocketCall(10, 'ingestFrame', encodeObservationFrame(observations('socket-binary', 40, 2)) as Uint8Array))
      expect((await answer(10))?.result?.data.rows).toBe(2)
      expect(f.node.views.entity('socket-binary')?.observations).toBe(42)
    } finally {
      socket.close()
    }
  })

  it('ingestFrameBase64 refuses text that is not base64, and base64 that is not a frame, naming the field', async () => {
    const call = async (input: string) => {
      const response = await fetch(`${f.server.url}/trpc/ingestFrameBase64`, {
        method: 'POST',
        headers: { authorization: `Bearer ${f.tokens.write}`, 'content-type': 'application/json' },
        body: JSON.stringify(input),
      })
      return { status: response.status, body: (await response.json()) as { error?: { message: string; data: { field?: string } } } }
    }
    const before = f.node.log.head()?.seq
    const notBase64 = await call('not base64 at all!')
    expect(notBase64.status).toBe(400)
    expect(notBase64.body.error?.message).toContain('base64')
    const notFrame = await call(Buffer.from('not a frame at all').toString('base64'))
    expect(notFrame.status).toBe(400)
    expect(notFrame.body.error?.data.field).toBe('body')
    expect(f.node.log.head()?.seq).toBe(before)
  })

  it('leaves as JSON what a frame cannot carry: meta, string timestamps, mixed dimensions of one entity, entity ids JSON refuses', () => {
    expect(encodeObservationFrame([{ entity: 'a', ts: 1, vector: [1], meta: { k: 'v' } }])).toBeNull()
    expect(encodeObservationFrame([{ entity: 'a', ts: '2024-01-01T00:00:00Z', vector: [1] }])).toBeNull()
    expect(
      encodeObservationFrame([
        { entity: 'a', ts: 1, vector: [1] },
        { entity: 'a', ts: 2, vector: [1, 2] },
      ]),
    ).toBeNull()
    expect(encodeObservationFrame([{ entity: 'a', ts: 1, vector: ['1'] }])).toBeNull()
    expect(encodeObservationFrame([{ entity: '', ts: 1, vector: [1] }], 'e')).toBeNull()
    expect(encodeObservationFrame([{ ts: 1, vector: [1] }], '')).toBeNull()
    expect(encodeObservationFrame([{ entity: 'x'.repeat(257), ts: 1, vector: [1] }])).toBeNull()
  })

  it('reads a frame at any byte offset (as a pooled Buffer holds it) and encodes every number bit for bit', () => {
    const rows = [
      { entity: 'a', ts: 1_700_000_000_000, vector: [1.5, -0, 2 ** -1074, -1e308] },
      { ts: 1_700_000_000_001, vector: [3, 4, 5, 6] },
      { entity: 'b', ts: 1_700_000_000_002, vector: [7] },
      { entity: 'a', ts: 1_700_000_000_003, vector: [Number.MAX_VALUE, Number.MIN_VALUE, 0.1, 1 / 3] },
    ]
    const frame = encodeObservationFrame(rows, 'c') as Uint8Array
    for (const offset of [0, 1, 3, 4, 8]) {
      const holder = new Uint8Array(frame.length + offset)
      holder.set(frame, offset)
      const { columns, entity } = decodeObservationFrame(holder.subarray(offset))
      let at = 0
      const read = Array.from(columns.ts, (ts, i) => {
        const e = columns.rowEntity[i] as number
        const dim = columns.dims[e] as number
        const vector = Array.from(columns.values.subarray(at, at + dim))
        at += dim
        const name = columns.entities[e] as string
        return name === '' ? { ts, vector } : { entity: name, ts, vector }
      })
      expect(entity).toBe('c')
      expect(read).toEqual(rows)
      // -0 stays -0 (toEqual tells them apart too; said here outright).
      expect(Object.is(read[0]?.vector[1], -0)).toBe(true)
    }
  })

  it('writes columns back into a frame at any byte offset (the copy taken where a view cannot be, then flushed)', () => {
    const expected = new Uint8Array(8 + 4 * 2 + 8 * 2 + 8 * 3)
    const view = new DataView(expected.buffer)
    view.setUint32(8, 1, true)
    view.setUint32(12, 0, true)
    view.setFloat64(16, 1_700_000_000_000, true)
    view.setFloat64(24, -0, true)
    for (const [i, x] of [1.5, Number.MAX_VALUE, 2 ** -1074].entries()) view.setFloat64(32 + 8 * i, x, true)
    for (const offset of [0, 1, 3, 4, 8]) {
      const holder = new Uint8Array(expected.length + offset)
      const bytes = holder.subarray(offset)
      const columns = frameColumns(bytes, 8, 16, 32, 2, 3)
      columns.rowEntity.set([1, 0])
      columns.ts.set([1_700_000_000_000, -0])
      columns.values.set([1.5, Number.MAX_VALUE, 2 ** -1074])
      columns.flush()
      expect(Array.from(bytes)).toEqual(Array.from(expected))
    }
  })
})

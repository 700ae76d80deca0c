import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defaultParts, openNode, type VsdbNode } from '@vsdb/engine'
import { initLog } from '@vsdb/log'
import { afterAll, beforeAll } from 'vitest'
import { createClientOver, type VsdbClient } from '../src/client/create-client.ts'
import type { HttpTransport } from '../src/client/http-transport.ts'
import { undiciTransport } from '../src/client/undici-transport.ts'
import { type ApiServer, startApiServer } from '../src/server/http-server.ts'
import { openTokenStore } from '../src/tokens/index.ts'

export interface ApiFixture {
  dir: string
  node: VsdbNode
  server: ApiServer
  tokens: { read: string; write: string; admin: string }
  close(): Promise<void>
}

/** A real node on disk in a temp dir, served on 127.0.0.1 on a free port, with a token of each scope. */
export async function startFixture(options: { maxBodyBytes?: number } = {}): Promise<ApiFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'vsdb-api-'))
  await (await initLog({ dir })).close()
  const node = await openNode({ dir, parts: defaultParts() })
  const store = openTokenStore(dir)
  const tokens = {
    read: (await store.create('read')).token,
    write: (await store.create('write')).token,
    admin: (await store.create('admin')).token,
  }
  const server = await startApiServer({ node, tokens: store, maxBodyBytes: options.maxBodyBytes })
  return {
    dir,
    node,
    server,
    tokens,
    async close() {
      await server.close()
      await node.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/**
 * The fixture of a test file: started before its tests, with `rows` observations of `seed` ingested when given, and
 * closed after them. Its fields are filled in by the time the tests run.
 */
export function useFixture(options: { maxBodyBytes?: number; seed?: { entity: string; rows: number } } = {}): ApiFixture {
  const f = {} as ApiFixture
  beforeAll(async () => {
    Object.assign(f, await startFixture(options))
    if (options.seed !== undefined) await f.node.ingestRows(observations(options.seed.entity, 0, options.seed.rows))
  })
  afterAll(async () => {
    await f.close()
  })
  return f
}

/** `n` observations of a 2-d signal, one a second from `start`, with a spike every 97th. */
export function observations(entity: string, start: number, n: number): { entity: string; ts: number; vector: number[] }[] {
  return Array.from({ length: n }, (_, j) => {
    const i = start + j
    return { entity, ts: 1_700_000_000_000 + i * 1000, vector: [Math.sin(i / 15) * 3 + (i % 97 === 0 ? 40 : 0), (i % 11) / 11] }
  })
}

/** The typed client over node:http, telling `seen` of every HTTP request it sends. */
export function recordingClient(url: string, token: string, seen: (request: Parameters<HttpTransport>[0]) => void): VsdbClient {
  const http = undiciTransport()
  return createClientOver(
    { url, token },
    {
      transport: (request) => {
        seen(request)
        return http.transport(request)
      },
      close: http.close,
    },
  )
}

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { access, mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createClient } from '@vsdb/api'
import { clusterStatusSchema } from '@vsdb/engine'
import { afterEach, describe, expect, it } from 'vitest'
import { expectCliError, expectCliOk, lineReader, NYC_TAXI, VSDB_BIN, vsdb } from './cli-helpers.ts'

const dirs: string[] = []
const children: ChildProcessWithoutNullStreams[] = []
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL')
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
})

/** `vsdb serve --port 0 --json` in its own process; resolves with its URL once it listens. */
async function serve(dir: string): Promise<{ child: ChildProcessWithoutNullStreams; url: string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [VSDB_BIN, '--dir', dir, 'serve', '--port', '0', '--json'], { stdio: 'pipe' })
  children.push(child)
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
  const line = await lineReader(child, 30_000).next()
  const started = JSON.parse(line) as { ok: boolean; url: string }
  expect(started.ok).toBe(true)
  return { child, url: started.url, exited }
}

describe('vsdb serve', () => {
  it('serves one node while the other commands go through it, tokens made by the CLI work at once, and an acknowledged ingest survives kill -9', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vsdb-serve-'))
    dirs.push(dir)
    expectCliOk(await vsdb(dir, ['init']))
    const { child, url } = await serve(dir)
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)

    // Another process on the directory: through the API (found via serve.json), not a second open of the store.
    await access(join(dir, 'serve.json'))
    const ingested = expectCliOk(await vsdb(dir, ['ingest', NYC_TAXI]))
    expect(ingested.rows).toBe(10320)
    const status = clusterStatusSchema.parse((await vsdb(dir, ['status'])).json)
    expect(status.members[0]?.entities).toBe(1)
    const digest = expectCliOk(await vsdb(dir, ['digest']))
    expect(digest.events).toBeGreaterThan(1)
    const replay = expectCliOk(await vsdb(dir, ['replay']))
    expect(replay.digest).toBe(digest.digest)
    expectCliOk(await vsdb(dir, ['audit']))
    // Export and import through the running node (tRPC: streamed chunks out, binary body in).
    const car = join(dir, 'node.car')
    expectCliOk(await vsdb(dir, ['export', '--car', car]))
    const reimported = expectCliOk(await vsdb(dir, ['import', '--car', car]))
    expect(reimported).toMatchObject({ newEvents: 0, newBlocks: 0 })
    expect(reimported.events).toBe(digest.events)
    const query = await vsdb(dir, ['query', '--vector', '[15000]', '-k', '3'])
    expect((expectCliOk(query).hits as unknown[]).length).toBe(3)
    expectCliError(await vsdb(dir, ['query', '--vector', '[1]', '-k', '3', '--entity', 'nobody']), 'NOT_FOUND')

    // A token made while it serves; only its hash is on disk.
    const created = expectCliOk(await vsdb(dir, ['token', 'create', '--scope', 'read']))
    const token = created.token as string
    const onDisk = await readFile(join(dir, 'tokens.json'), 'utf8')
    expect(onDisk).not.toContain(token.split('_')[2])
    expect((await stat(join(dir, 'tokens.json'))).mode & 0o777).toBe(0o600)
    const response = await fetch(`${url}/v1/cluster/status`, { headers: { authorization: `Bearer ${token}` } })
    expect(response.status).toBe(200)
    expect(clusterStatusSchema.parse(await response.json()).cluster_id).toBe(status.cluster_id)
    expect((await fetch(`${url}/v1/cluster/status`)).status).toBe(401)
    expectCliOk(await vsdb(dir, ['token', 'revoke', created.id as string]))
    expect((await fetch(`${url}/v1/cluster/status`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401)

    // An ingest acknowledged by the API survives kill -9 of the server.
    const writer = createClient({ url, token: expectCliOk(await vsdb(dir, ['token', 'create', '--scope', 'write'])).token as string })
    const rows = Array.from({ length: 700 }, (_, i) => ({
      entity: 'pump',
      ts: 1_700_000_000_000 + i * 1000,
      vector: [Math.sin(i / 7), i % 3],
    }))
    const acked = await writer.ingest.mutate({ observations: rows })
    await writer.close()
    child.kill('SIGKILL')
    await new Promise((r) => child.once('close', r))

    // The serve.json a killed node left behind is not trusted: the next command opens the store itself.
    const read = await vsdb(dir, ['read', '--entity', 'pump', '--format', 'jsonl'], { json: false })
    expect(read.code).toBe(0)
    expect(read.stdout.trim().split('\n')).toHaveLength(700)
    const after = expectCliOk(await vsdb(dir, ['status']))
    expect(after.members).toBeDefined()
    expect(acked.head).not.toBeNull()
    expectCliOk(await vsdb(dir, ['audit']))
  })

  it('refuses a bad port and a directory that is not initialised, with one-line errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vsdb-serve-'))
    dirs.push(dir)
    expectCliError(await vsdb(dir, ['serve', '--port', 'http']), 'INVALID_INPUT')
    expectCliError(await vsdb(dir, ['serve', '--port', '0']), 'NOT_INITIALIZED')
    expectCliError(await vsdb(dir, ['token', 'create', '--scope', 'read']), 'NOT_INITIALIZED')
  })
})

describe('the client example', () => {
  it('ingests and queries a served node through the typed client, and gets its segments pushed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vsdb-example-'))
    dirs.push(dir)
    expectCliOk(await vsdb(dir, ['init']))
    const { url } = await serve(dir)
    const token = expectCliOk(await vsdb(dir, ['token', 'create', '--scope', 'write'])).token as string
    const example = fileURLToPath(new URL('../../scripts/examples/client.ts', import.meta.url))
    const child = spawn(process.execPath, [example], {
      stdio: 'pipe',
      env: { ...process.env, VSDB_URL: url, VSDB_TOKEN: token, VSDB_ENTITY: 'example' },
    })
    children.push(child)
    const lines = lineReader(child, 30_000)
    let last = ''
    while (!last.startsWith('{')) last = await lines.next()
    const result = JSON.parse(last) as { ok: boolean; rows: number; segments: number; pushed: number; hits: number }
    expect(result).toMatchObject({ ok: true, rows: 1000 })
    expect(result.segments).toBeGreaterThan(0)
    expect(result.pushed).toBe(result.segments)
    expect(result.hits).toBe(Math.min(5, result.segments - 1))
  })
})

import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { withHTTP } from '@helia/http'
import { createVerifiedFetch, type VerifiedFetch } from '@helia/verified-fetch'
import { CarReader } from '@ipld/car'
import * as dagCbor from '@ipld/dag-cbor'
import { defaultParts, openNode, type VsdbNode } from '@vsdb/engine'
import { cidFor, initLog, RAW } from '@vsdb/log'
import { createHeliaLight, type Helia } from 'helia'
import { CID } from 'multiformats/cid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGatewayHandler } from '../src/gateway/trustless-gateway.ts'

const TOKEN = 'secret'
const RAW_TYPE = 'application/vnd.ipld.raw'
const CAR_TYPE = 'application/vnd.ipld.car'

let dir: string
let node: VsdbNode
let server: Server
let gateway: string
const clients: Helia[] = []
/** What reached the handler (past the token check): who asked for what, and how. */
const seen: { url: string; accept: string | undefined; method: string | undefined }[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vsdb-gateway-'))
  await (await initLog({ dir })).close()
  node = await openNode({ dir, parts: defaultParts() })
  const rows = Array.from({ length: 600 }, (_, i) => ({
    entity: 'truck',
    ts: 1_700_000_000 + i * 60,
    vector: [Number((Math.sin(i / 15) * 20).toFixed(3)), i % 9],
  }))
  await node.ingestRows(rows)

  const handler = createGatewayHandler(node.log)
  server = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { code: 'UNAUTHORIZED', message: 'a bearer token is required' } }))
      return
    }
    seen.push({ url: req.url ?? '', accept: req.headers.accept, method: req.method })
    void handler(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  gateway = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}, 30_000)

afterAll(async () => {
  await Promise.all(clients.map((client) => client.stop()))
  server?.closeAllConnections()
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())))
  await node?.close()
  await rm(dir, { recursive: true, force: true })
})

function get(path: string, init: { accept?: string; method?: string; token?: string | null; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...init.headers }
  if (init.accept !== undefined) headers.accept = init.accept
  if (init.token !== null) headers.authorization = `Bearer ${init.token ?? TOKEN}`
  return fetch(`${gateway}${path}`, { method: init.method ?? 'GET', headers })
}

function firstSegment() {
  const [segment] = node.segments({ entity: 'truck' })
  if (segment === undefined) throw new Error('no sealed segment')
  return { event: CID.parse(segment.cid), data: CID.parse(segment.data) }
}

function hashMatches(cid: CID, bytes: Uint8Array): boolean {
  return cid.multihash.code === 0x12 && createHash('sha256').update(bytes).digest().equals(cid.multihash.digest)
}

/** Every CID inside a decoded DAG-CBOR value, in encoding order (written here, apart from the gateway's walker). */
function linksOf(value: unknown, out: CID[] = []): CID[] {
  const cid = CID.asCID(value)
  if (cid !== null) out.push(cid)
  else if (Array.isArray(value)) for (const item of value) linksOf(item, out)
  else if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    for (const item of Object.values(value)) linksOf(item, out)
  }
  return out
}

/** The DAG under a CID in depth-first pre-order, each block once, read straight from the log. */
async function expectedDfs(root: CID, order: string[] = [], done = new Set<string>()): Promise<string[]> {
  if (done.has(root.toString())) return order
  done.add(root.toString())
  order.push(root.toString())
  const bytes = await node.log.getBlock(root)
  if (root.code === 0x71) for (const link of linksOf(dagCbor.decode(bytes))) await expectedDfs(link, order, done)
  return order
}

async function readCar(bytes: Uint8Array): Promise<{ roots: string[]; blocks: { cid: CID; bytes: Uint8Array }[] }> {
  const reader = await CarReader.fromBytes(bytes)
  const blocks: { cid: CID; bytes: Uint8Array }[] = []
  for await (const { cid, bytes: body } of reader.blocks()) blocks.push({ cid: CID.decode(cid.bytes), bytes: body })
  return { roots: (await reader.getRoots()).map(String), blocks }
}

/**
 * A verified-fetch over a Helia with no libp2p, no delegated routers and no discovery: its only provider is
 * the one gateway URL (as a fallback "recursive gateway"), and its trustless-gateway block broker adds the
 * bearer token to every request through `transformRequestInit`.
 */
async function verifiedFetchOf(url: string): Promise<VerifiedFetch> {
  const client = withHTTP(createHeliaLight({ codecs: [dagCbor] }), {
    delegatedRouters: [],
    recursiveGateways: [url],
    allowInsecure: true,
    allowLocal: true,
    transformRequestInit: (init) => ({
      ...init,
      headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${TOKEN}` },
    }),
  })
  // Helia's routing asks its non-fallback routers first and, with none at all, waits for them forever
  // (helia 7.1.15 routing.js: nothing ever marks the empty set finished). One that finds nothing lets it
  // move on to the gateway.
  client.addRouter({ name: 'no-peer-routing', findProviders: async function* () {} })
  await client.start()
  clients.push(client)
  return createVerifiedFetch(client)
}

describe('trustless gateway, fetched by @helia/verified-fetch', () => {
  let verifiedFetch: VerifiedFetch

  beforeAll(async () => {
    verifiedFetch = await verifiedFetchOf(gateway)
  })

  it('fetches a segment data block and the segment event, verified, byte for byte what the log holds', async () => {
    const { event, data } = firstSegment()
    for (const cid of [data, event]) {
      const res = await verifiedFetch(`ipfs://${cid}`, { headers: { accept: RAW_TYPE }, signal: AbortSignal.timeout(5_000) })
      expect(res.status, `${cid}`).toBe(200)
      const body = new Uint8Array(await res.arrayBuffer())
      expect(Buffer.from(body).equals(await node.log.getBlock(cid))).toBe(true)
    }
    // It reached the node only through the gateway, as the trustless spec's block requests, token and all.
    for (const cid of [data, event]) {
      expect(seen.some((r) => r.url.startsWith(`/ipfs/${cid}`) && r.url.includes('format=raw') && r.accept === RAW_TYPE)).toBe(true)
    }
  })

  it('builds a CAR of the segment event by walking the DAG block by block from the gateway', async () => {
    const { event } = firstSegment()
    const res = await verifiedFetch(`ipfs://${event}`, { headers: { accept: CAR_TYPE }, signal: AbortSignal.timeout(5_000) })
    expect(res.status).toBe(200)
    const car = await readCar(new Uint8Array(await res.arrayBuffer()))
    const expected = await expectedDfs(event)
    expect(new Set(car.blocks.map((b) => b.cid.toString()))).toEqual(new Set(expected))
  })

  it('is a real verifier: a gateway that sends other bytes for the CID gets nothing through', async () => {
    let asked = 0
    const liar = createServer((req, res) => {
      asked++
      res.writeHead(200, { 'content-type': RAW_TYPE })
      res.end(Buffer.from(`not the block at ${req.url}`))
    })
    await new Promise<void>((resolve) => liar.listen(0, '127.0.0.1', resolve))
    try {
      const fooled = await verifiedFetchOf(`http://127.0.0.1:${(liar.address() as AddressInfo).port}`)
      const { data } = firstSegment()
      const res = await fooled(`ipfs://${data}`, { headers: { accept: RAW_TYPE }, signal: AbortSignal.timeout(1_000) }).catch(
        (err: Error) => err,
      )
      // It asked the liar, refused what came back (the hash did not match), and found no one else to ask.
      expect(asked).toBeGreaterThan(0)
      expect(res instanceof Response ? res.status : 0).not.toBe(200)
    } finally {
      liar.closeAllConnections()
      await new Promise<void>((resolve) => liar.close(() => resolve()))
    }
  })
})

describe('trustless gateway over plain fetch', () => {
  it('answers a raw block whose bytes hash to the CID, with the spec headers', async () => {
    const { data } = firstSegment()
    const res = await get(`/ipfs/${data}`, { accept: RAW_TYPE })
    expect(res.status).toBe(200)
    const body = new Uint8Array(await res.arrayBuffer())
    expect(hashMatches(data, body)).toBe(true)
    expect(Buffer.from(body).equals(await node.log.getBlock(data))).toBe(true)
    expect(Object.fromEntries(res.headers)).toMatchObject({
      'content-type': RAW_TYPE,
      'content-length': String(body.length),
      'x-content-type-options': 'nosniff',
      'cache-control': 'public, max-age=29030400, immutable',
      etag: `"${data}.raw"`,
      vary: 'Accept',
      'content-disposition': `attachment; filename="${data}.bin"`,
      'content-location': `/ipfs/${data}?format=raw`,
    })
    // ?format= wins over Accept, and a dag-cbor block comes back as its exact bytes too.
    const { event } = firstSegment()
    const byQuery = await get(`/ipfs/${event}?format=raw`, { accept: CAR_TYPE })
    expect(byQuery.headers.get('content-type')).toBe(RAW_TYPE)
    expect(Buffer.from(await byQuery.arrayBuffer()).equals(await node.log.getBlock(event))).toBe(true)
  })

  it('streams a CARv1 rooted at the CID with the whole DAG under it, depth first, each block once', async () => {
    const { event, data } = firstSegment()
    const res = await get(`/ipfs/${event}`, { accept: `${CAR_TYPE}; version=1; order=dfs; dups=n` })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe(`${CAR_TYPE}; version=1; order=dfs; dups=n`)
    expect(res.headers.get('etag')).toBe(`"${event}.car"`)
    expect(res.headers.get('content-length')).toBeNull()
    const car = await readCar(new Uint8Array(await res.arrayBuffer()))
    expect(car.roots).toEqual([event.toString()])
    const cids = car.blocks.map((b) => b.cid.toString())
    expect(cids[0]).toBe(event.toString())
    expect(cids).toContain(data.toString())
    expect(new Set(cids).size).toBe(cids.length)
    const held = new Set(cids)
    for (const { cid, bytes } of car.blocks) {
      expect(hashMatches(cid, bytes), `${cid}`).toBe(true)
      expect(Buffer.from(bytes).equals(await node.log.getBlock(cid))).toBe(true)
      if (cid.code === 0x71) for (const link of linksOf(dagCbor.decode(bytes))) expect(held.has(link.toString())).toBe(true)
    }
    // The event links its data block and, through `prev`, the chain down to genesis: all of it, in DFS order.
    expect(cids).toEqual(await expectedDfs(event))
    expect(cids.length).toBeGreaterThan(3)
  })

  it('negotiates CAR variants: format=car, dag-scope=block, dups=y; refuses other versions and orders', async () => {
    const { event } = firstSegment()
    const byQuery = await get(`/ipfs/${event}?format=car`)
    expect(byQuery.headers.get('content-type')).toBe(`${CAR_TYPE}; version=1; order=dfs; dups=n`)
    expect((await readCar(new Uint8Array(await byQuery.arrayBuffer()))).blocks.length).toBe((await expectedDfs(event)).length)

    const block = await get(`/ipfs/${event}?format=car&dag-scope=block`)
    expect(block.headers.get('etag')).toBe(`"${event}.dag-scope-block.car"`)
    expect((await readCar(new Uint8Array(await block.arrayBuffer()))).blocks.map((b) => b.cid.toString())).toEqual([event.toString()])

    const dups = await get(`/ipfs/${event}`, { accept: `${CAR_TYPE};dups=y` })
    expect(dups.headers.get('content-type')).toBe(`${CAR_TYPE}; version=1; order=dfs; dups=y`)
    await dups.arrayBuffer()

    // A preference list: the unsupported first choice is passed over for the servable second.
    const list = await get(`/ipfs/${event}`, { accept: `${CAR_TYPE};order=foo, ${CAR_TYPE};order=dfs;dups=y;q=0.5` })
    expect(list.headers.get('content-type')).toBe(`${CAR_TYPE}; version=1; order=dfs; dups=y`)
    await list.arrayBuffer()

    for (const accept of [`${CAR_TYPE}; version=2`, `${CAR_TYPE}; order=foo`]) {
      const res = await get(`/ipfs/${event}`, { accept })
      expect(res.status, accept).toBe(406)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_ACCEPTABLE')
    }
    const badQuery = await get(`/ipfs/${event}?format=car&car-version=2`)
    expect(badQuery.status).toBe(400)
    expect(await badQuery.json()).toMatchObject({ error: { code: 'INVALID_INPUT', field: 'car-version' } })
  })

  it('answers 404 for a CID not held, 400 for a malformed CID or a path, 406 for an unsupported Accept', async () => {
    const absent = cidFor(randomBytes(32), RAW)
    const missing = await get(`/ipfs/${absent}`, { accept: RAW_TYPE })
    expect(missing.status).toBe(404)
    const missingBody = (await missing.json()) as { error: { code: string; message: string; cid: string } }
    expect(missingBody.error).toMatchObject({ code: 'NOT_FOUND', cid: absent.toString() })
    expect(missingBody.error.message).toContain(absent.toString())
    expect((await get(`/ipfs/${absent}`, { accept: CAR_TYPE })).status).toBe(404)

    const malformed = await get('/ipfs/bafy-not-a-cid', { accept: RAW_TYPE })
    expect(malformed.status).toBe(400)
    const malformedBody = (await malformed.json()) as { error: { code: string; message: string; cid: string } }
    expect(malformedBody.error).toMatchObject({ code: 'INVALID_INPUT', cid: 'bafy-not-a-cid', field: 'cid' })
    expect(malformedBody.error.message).toContain('bafy-not-a-cid')

    const { event } = firstSegment()
    const pathed = await get(`/ipfs/${event}/payload/data`, { accept: CAR_TYPE })
    expect(pathed.status).toBe(400)
    expect(((await pathed.json()) as { error: { message: string } }).error.message).toMatch(/paths inside a DAG are not supported/)

    const html = await get(`/ipfs/${event}`, { accept: 'text/html' })
    expect(html.status).toBe(406)
    expect(html.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await html.json()).toMatchObject({ error: { code: 'NOT_ACCEPTABLE' } })
  })

  it('needs the token (the server in front of the handler), and answers only GET and HEAD', async () => {
    const { data } = firstSegment()
    expect((await get(`/ipfs/${data}`, { accept: RAW_TYPE, token: null })).status).toBe(401)
    const post = await get(`/ipfs/${data}`, { accept: RAW_TYPE, method: 'POST' })
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toBe('GET, HEAD')
  })

  it('answers HEAD with the headers and no body, and If-None-Match with 304', async () => {
    const { event, data } = firstSegment()
    const raw = await get(`/ipfs/${data}`, { accept: RAW_TYPE, method: 'HEAD' })
    expect(raw.status).toBe(200)
    expect(raw.headers.get('content-length')).toBe(String((await node.log.getBlock(data)).length))
    expect((await raw.arrayBuffer()).byteLength).toBe(0)
    const car = await get(`/ipfs/${event}`, { accept: CAR_TYPE, method: 'HEAD' })
    expect(car.headers.get('content-type')).toBe(`${CAR_TYPE}; version=1; order=dfs; dups=n`)
    expect((await car.arrayBuffer()).byteLength).toBe(0)
    expect((await get(`/ipfs/${cidFor(randomBytes(8), RAW)}`, { accept: RAW_TYPE, method: 'HEAD' })).status).toBe(404)

    const cached = await get(`/ipfs/${data}`, { accept: RAW_TYPE, headers: { 'if-none-match': `"${data}.raw"` } })
    expect(cached.status).toBe(304)
  })

  it('answers the spec probe bafkqaaa (the empty identity CID)', async () => {
    const raw = await get('/ipfs/bafkqaaa?format=raw', { accept: RAW_TYPE })
    expect(raw.status).toBe(200)
    expect((await raw.arrayBuffer()).byteLength).toBe(0)
    const car = await readCar(new Uint8Array(await (await get('/ipfs/bafkqaaa?format=car', { accept: CAR_TYPE })).arrayBuffer()))
    expect(car).toEqual({ roots: ['bafkqaaa'], blocks: [] })
  })

  it('breaks the response, rather than ending a truncated CAR, when a linked block is missing midway', async () => {
    const absent = cidFor(randomBytes(32), RAW)
    const bytes = dagCbor.encode({ note: 'links a block this node does not hold', link: absent })
    const parent = cidFor(bytes)
    await node.log.blockstore.put(parent, bytes)
    const res = await get(`/ipfs/${parent}`, { accept: CAR_TYPE })
    expect(res.status).toBe(200) // the root was there: the stream had begun
    await expect(res.arrayBuffer()).rejects.toThrow()
    // The root alone is still a whole answer.
    const block = await get(`/ipfs/${parent}?dag-scope=block`, { accept: CAR_TYPE })
    expect((await readCar(new Uint8Array(await block.arrayBuffer()))).blocks.map((b) => b.cid.toString())).toEqual([parent.toString()])
  })
})

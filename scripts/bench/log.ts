/**
 * The event log's throughput, each figure against a baseline measured in the same run:
 *   1. awaited single appends vs raw Level awaited `put` of the same bytes, and vs OrbitDB 4 `events` adds;
 *   2. concurrent appends and appendBatch vs the bare encode + sign + hash rate on one core;
 *   3. audit and CAR export vs the bare sha-256 + Ed25519 verify rate on one core.
 * Plus a per-event cost breakdown of the steps the log performs, to show where its time goes.
 *
 *   npm run bench -- log [--quick]
 */
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import * as dagCbor from '@ipld/dag-cbor'
import { identify } from '@libp2p/identify'
import { createOrbitDB } from '@orbitdb/core'
import {
  type AppendInput,
  auditLog,
  checkEventBlock,
  cidFor,
  decodeEvent,
  encodeUnsigned,
  exportCar,
  initLog,
  type Log,
  payloadSchemas,
  type StoredEvent,
} from '@vsdb/log'
import { LevelBlockstore } from 'blockstore-level-3'
import { ClassicLevel } from 'classic-level'
import { LevelDatastore } from 'datastore-level-12'
import { gossipsub } from 'gossipsub-15'
import { createHelia } from 'helia-6'
import { createLibp2p } from 'libp2p'
import { base36 } from 'multiformats/bases/base36'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { fmtRate, type Results as ResultsType, Results, type Row, settle, TempDirs, timed, timedSync } from './lib/report.ts'

type Input = AppendInput<'privacy'>

interface Sizes {
  warmup: number
  single: number[]
  concurrent: number
  inFlight: number
  batch: number
  batches: number
  audit: number
}

const FULL: Sizes = { warmup: 300, single: [1_000, 10_000], concurrent: 20_000, inFlight: 256, batch: 1_000, batches: 20, audit: 100_000 }
const QUICK: Sizes = { warmup: 50, single: [200, 1_000], concurrent: 2_000, inFlight: 256, batch: 1_000, batches: 4, audit: 5_000 }

const DAG_CBOR = 0x71
const SHA2_256 = 0x12

/**
 * `privacy` events: every field realistic and fixed-size, so the signed event is 260 bytes, the nearest to
 * ≈ 275 any event type gets (a `trust` event naming a real 52-character PeerId is 346; the envelope alone ~215).
 */
function makeInputs(n: number, t0: number): Input[] {
  const out: Input[] = new Array(n)
  for (let i = 0; i < n; i++) {
    // Never integers: DAG-CBOR writes integral numbers as ints, which would shrink some events.
    out[i] = { type: 'privacy', ts: t0 + i, payload: { enabled: i % 3 !== 0, epsilon: 0.05 + (i % 89) / 97, budget: 1.5 + (i % 1000) / 7 } }
  }
  return out
}

function sha256(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest()
}

/** The Ed25519 public key inside a PeerId string (identity multihash of the protobuf key: its last 32 bytes). */
function publicKeyFromPeerId(node: string): KeyObject {
  const multihash = base58btc.baseDecode(node)
  const raw = multihash.subarray(multihash.length - 32)
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' })
}

interface BareEvent {
  cid: CID
  bytes: Uint8Array
}

/** The straightforward chain on one core: DAG-CBOR of the unsigned map, Ed25519 sign, DAG-CBOR of the signed map, sha-256. */
function bareSign(inputs: Input[], node: string, key: KeyObject): BareEvent[] {
  const out: BareEvent[] = new Array(inputs.length)
  let prev: CID | null = null
  for (let seq = 0; seq < inputs.length; seq++) {
    const input = inputs[seq] as Input
    const unsigned: Record<string, unknown> = { v: 1, type: input.type, node, seq, ts: input.ts, prev, payload: input.payload }
    const sig = sign(null, dagCbor.encode(unsigned), key)
    const bytes: Uint8Array = dagCbor.encode({ ...unsigned, sig })
    const cid: CID = CID.createV1(DAG_CBOR, Digest.create(SHA2_256, sha256(bytes)))
    out[seq] = { cid, bytes }
    prev = cid
  }
  return out
}

interface VerifyItem {
  bytes: Uint8Array
  digest: Uint8Array
  unsigned: Uint8Array
  sig: Uint8Array
}

function verifyItems(events: StoredEvent[]): VerifyItem[] {
  return events.map(({ cid, bytes, event }) => {
    const { sig, ...unsigned } = event
    return { bytes, digest: cid.multihash.digest, unsigned: dagCbor.encode(unsigned), sig }
  })
}

/** sha-256 of each block against its CID, and the Ed25519 signature over the unsigned bytes: one core. */
function bareVerify(items: VerifyItem[], key: KeyObject): number {
  let ok = 0
  for (const item of items) {
    if (sha256(item.bytes).equals(item.digest) && verify(null, item.unsigned, key, item.sig)) ok++
  }
  return ok
}

async function withLog<T>(tmp: TempDirs, fn: (log: Log) => Promise<T>): Promise<T> {
  const dir = await tmp.make('log')
  const log = await initLog({ dir })
  try {
    return await fn(log)
  } finally {
    await log.close()
    await tmp.remove(dir)
  }
}

async function oursSingle(tmp: TempDirs, inputs: Input[]): Promise<{ seconds: number; events: StoredEvent[] }> {
  return withLog(tmp, async (log) => {
    const events: StoredEvent[] = new Array(inputs.length)
    const { seconds } = await timed(async () => {
      for (let i = 0; i < inputs.length; i++) events[i] = await log.append(inputs[i] as Input)
    })
    return { seconds, events }
  })
}

async function oursConcurrent(tmp: TempDirs, inputs: Input[], inFlight: number): Promise<{ seconds: number; events: StoredEvent[] }> {
  return withLog(tmp, async (log) => {
    const events: StoredEvent[] = new Array(inputs.length)
    let next = 0
    const caller = async (): Promise<void> => {
      while (next < inputs.length) {
        const i = next++
        events[i] = await log.append(inputs[i] as Input)
      }
    }
    const { seconds } = await timed(() => Promise.all(Array.from({ length: inFlight }, caller)))
    return { seconds, events }
  })
}

async function appendBatches(log: Log, inputs: Input[], size: number): Promise<StoredEvent[]> {
  const events: StoredEvent[] = []
  for (let start = 0; start < inputs.length; start += size) events.push(...(await log.appendBatch(inputs.slice(start, start + size))))
  return events
}

type RawDb = ClassicLevel<Uint8Array, Uint8Array>

async function withLevel<T>(tmp: TempDirs, fn: (db: RawDb) => Promise<T>): Promise<T> {
  const dir = await tmp.make('level')
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' })
  await db.open()
  try {
    return await fn(db)
  } finally {
    await db.close()
    await tmp.remove(dir)
  }
}

/** Raw Level, awaited `put` one by one, keyed by multihash as the log keys its blocks. */
async function levelPuts(tmp: TempDirs, events: BareEvent[]): Promise<number> {
  return withLevel(tmp, async (db) => {
    const { seconds } = await timed(async () => {
      for (const { cid, bytes } of events) await db.put(cid.multihash.bytes, bytes)
    })
    return seconds
  })
}

/** Raw Level `batch` of `size` puts at a time, awaited in turn. */
async function levelBatches(tmp: TempDirs, events: BareEvent[], size: number): Promise<number> {
  return withLevel(tmp, async (db) => {
    const { seconds } = await timed(async () => {
      for (let start = 0; start < events.length; start += size) {
        await db.batch(events.slice(start, start + size).map(({ cid, bytes }) => ({ type: 'put' as const, key: cid.multihash.bytes, value: bytes })))
      }
    })
    return seconds
  })
}

/**
 * Raw Level `batch` in the log's write shape (as log.ts writes today): per event the block, its seq index, its
 * type index and Helia's two pin records, in sublevels, with every key and value made beforehand; plus the head
 * once per batch. The storage limit of the log's schema, as against one put per event.
 */
const LOG_SHAPE_PUTS = 5

async function levelBatchesLogShape(tmp: TempDirs, events: StoredEvent[], size: number): Promise<number> {
  const dir = await tmp.make('level-shape')
  const db = new ClassicLevel<string, Uint8Array>(dir, { valueEncoding: 'view' })
  await db.open()
  const blocks = db.sublevel<Uint8Array, Uint8Array>('blocks', { keyEncoding: 'view', valueEncoding: 'view' })
  const seqs = db.sublevel<string, string>('seq', { valueEncoding: 'utf8' })
  const types = db.sublevel<string, string>('type', { valueEncoding: 'utf8' })
  const heads = db.sublevel<string, string>('heads', { valueEncoding: 'utf8' })
  const helia = db.sublevel<string, Uint8Array>('helia', { valueEncoding: 'view' })
  const directPin = dagCbor.encode({ depth: 0, metadata: {} })
  const prepared = events.map(({ cid, bytes, event }) => {
    const position = `${event.node}!${event.seq.toString(16).padStart(13, '0')}!${cid}`
    return {
      key: cid.multihash.bytes,
      bytes,
      position,
      type: `${event.type}!${position}`,
      pin: `/pin/${cid.toString(base36)}`,
      pinnedBlock: `/pinned-block/${base36.encode(cid.multihash.bytes)}`,
      pinnedBy: dagCbor.encode({ pinCount: 1, pinnedBy: [cid.bytes] }),
      head: `${event.seq} ${cid}`,
      node: event.node,
    }
  })
  try {
    const { seconds } = await timed(async () => {
      for (let start = 0; start < prepared.length; start += size) {
        const group = prepared.slice(start, start + size)
        const ops = group.flatMap((e) => [
          { type: 'put', sublevel: blocks, key: e.key, value: e.bytes },
          { type: 'put', sublevel: seqs, key: e.position, value: '' },
          { type: 'put', sublevel: types, key: e.type, value: '' },
          { type: 'put', sublevel: helia, key: e.pin, value: directPin },
          { type: 'put', sublevel: helia, key: e.pinnedBlock, value: e.pinnedBy },
        ])
        const last = group[group.length - 1]
        if (last !== undefined) ops.push({ type: 'put', sublevel: heads, key: last.node, value: last.head })
        await db.batch(ops as never)
      }
    })
    return seconds
  } finally {
    await db.close()
    await tmp.remove(dir)
  }
}

/**
 * OrbitDB 4 on Helia 6 with Level on disk (blocks, datastore, OrbitDB's own heads/index/keystore), gossipsub as
 * pubsub, and a libp2p with no transports and no listen address: nothing leaves the process.
 */
async function orbitAdds(tmp: TempDirs, inputs: Input[]): Promise<number> {
  const dir = await tmp.make('orbitdb')
  const datastore = new LevelDatastore(join(dir, 'datastore'))
  const blockstore = new LevelBlockstore(join(dir, 'blocks'))
  await datastore.open()
  await blockstore.open()
  const libp2p = await createLibp2p({
    addresses: { listen: [] },
    transports: [],
    services: { identify: identify(), pubsub: gossipsub({ allowPublishToZeroTopicPeers: true }) },
  })
  if (libp2p.getMultiaddrs().length > 0) throw new Error(`libp2p listens on ${libp2p.getMultiaddrs().join(', ')}`)
  const ipfs = await createHelia({ libp2p, blockstore, datastore, blockBrokers: [], routers: [] })
  try {
    const orbitdb = await createOrbitDB({ ipfs, directory: join(dir, 'orbitdb') })
    const db = await orbitdb.open('bench-events', { type: 'events' })
    const { seconds } = await timed(async () => {
      for (const input of inputs) await db.add(input)
    })
    await db.close()
    await orbitdb.stop()
    return seconds
  } finally {
    await ipfs.stop()
    await blockstore.close().catch(() => {})
    await datastore.close().catch(() => {})
    await tmp.remove(dir)
  }
}

interface Step {
  step: string
  events: number
  microsPerEvent: number
  perSecond: number
}

function step(name: string, events: number, seconds: number): Step {
  return { step: name, events, microsPerEvent: (seconds * 1e6) / events, perSecond: events / seconds }
}

/** What each step of an append and of a check costs on one core, over the same events. */
function breakdown(events: StoredEvent[], key: KeyObject, publicKey: KeyObject): Step[] {
  const n = events.length
  const unsigned = events.map(({ event }) => {
    const { sig: _sig, ...rest } = event
    return rest
  })
  const unsignedBytes = unsigned.map((u) => encodeUnsigned(u))
  const sigs = unsignedBytes.map((b) => sign(null, b, key))
  const signed = unsigned.map((u, i) => ({ ...u, sig: sigs[i] as Uint8Array }))
  const cidTexts = events.map(({ cid }) => cid.toString())
  const freshCids = events.map(({ cid }) => CID.decode(cid.bytes))
  const schema = payloadSchemas.privacy
  const steps: Step[] = []
  const run = (name: string, fn: (i: number) => unknown): void => {
    for (let i = 0; i < Math.min(n, 2_000); i++) fn(i) // warm the JIT
    const { seconds } = timedSync(() => {
      for (let i = 0; i < n; i++) fn(i)
    })
    steps.push(step(name, n, seconds))
  }
  run('append: zod payload parse', (i) => schema.parse((unsigned[i] as (typeof unsigned)[number]).payload))
  run('append: DAG-CBOR encode unsigned', (i) => encodeUnsigned(unsigned[i] as (typeof unsigned)[number]))
  run('append: Ed25519 sign (KeyObject)', (i) => sign(null, unsignedBytes[i] as Uint8Array, key))
  run('append: DAG-CBOR encode signed', (i) => dagCbor.encode(signed[i]))
  run('append: cidFor (sha-256 + CID)', (i) => cidFor((events[i] as StoredEvent).bytes))
  run('append: CID toString (uncached)', (i) => (freshCids[i] as CID).toString())
  run('check: sha-256', (i) => sha256((events[i] as StoredEvent).bytes))
  run('check: DAG-CBOR decode', (i) => dagCbor.decode((events[i] as StoredEvent).bytes))
  run('check: decodeEvent (decode + zod + re-encode)', (i) => decodeEvent((events[i] as StoredEvent).cid, (events[i] as StoredEvent).bytes))
  run('check: Ed25519 verify', (i) => verify(null, unsignedBytes[i] as Uint8Array, publicKey, sigs[i] as Uint8Array))
  run('check: checkEventBlock (all of one event)', (i) => checkEventBlock(cidTexts[i] as string, (events[i] as StoredEvent).bytes))
  return steps
}

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`bench check failed: ${what}`)
}

export async function main(args: string[]): Promise<void> {
  const quick = args.includes('--quick')
  const unknown = args.filter((a) => a !== '--quick')
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown[0]}; usage: npm run bench -- log [--quick]`)
  const sizes = quick ? QUICK : FULL
  const tmp = new TempDirs()
  const results: ResultsType = new Results()
  const t0 = Date.now()
  const { privateKey } = generateKeyPairSync('ed25519')
  const extra: Record<string, unknown> = {}
  console.error(`log bench${quick ? ' (quick)' : ''}: node ${process.version}, ${availableParallelism()} cores, Level on disk in temp dirs`)

  try {
    // The node id of a real log, so bare events have the same fields and sizes as the log's.
    const node = await withLog(tmp, async (log) => log.node)

    // Warm the JIT and Level for every contender, so the first measured run does not pay for it.
    const warm = makeInputs(sizes.warmup, t0)
    await oursSingle(tmp, warm)
    await levelPuts(tmp, bareSign(warm, node, privateKey))
    await orbitAdds(tmp, warm.slice(0, Math.max(20, sizes.warmup / 3)))
    bareSign(makeInputs(5_000, t0), node, privateKey)

    // 1. Awaited single appends.
    console.error('1. awaited single appends')
    for (const n of sizes.single) {
      const inputs = makeInputs(n, t0)
      settle()
      const ours = await oursSingle(tmp, inputs)
      const same: BareEvent[] = ours.events.map(({ cid, bytes }) => ({ cid, bytes }))
      extra.eventBytes = same.reduce((s, e) => s + e.bytes.length, 0) / same.length
      settle()
      const level = results.add(`level put, awaited (${n})`, n, await levelPuts(tmp, same))
      const mine = results.add(`vsdb append, awaited (${n})`, n, ours.seconds, { baseline: level, goal: 0.5 })
      settle()
      const orbit = results.add(`orbitdb events add, awaited (${n})`, n, await orbitAdds(tmp, inputs), { baseline: level })
      extra[`vsdbVsOrbitdb${n}`] = mine.perSecond / orbit.perSecond
    }

    // 2. Concurrent appends and batches vs the bare encode + sign + hash rate.
    console.error('2. concurrent appends and appendBatch')
    const total = sizes.concurrent
    const inputs = makeInputs(total, t0)
    settle()
    const bare = timedSync(() => bareSign(inputs, node, privateKey))
    const bareRow = results.add(`bare encode+sign+hash, 1 core (${total})`, total, bare.seconds)
    settle()
    const concurrent = await oursConcurrent(tmp, inputs, sizes.inFlight)
    check(concurrent.events.every((e) => e !== undefined), 'every concurrent append resolved')
    const levelBatchRow = results.add(`level batch of ${sizes.batch}, 1 put/event (${total})`, total, await levelBatches(tmp, bare.value, sizes.batch), { baseline: bareRow })
    results.add(`vsdb append, ${sizes.inFlight} in flight (${total})`, total, concurrent.seconds, { baseline: bareRow, goal: 0.8 })
    const batchInputs = makeInputs(sizes.batch * sizes.batches, t0)
    settle()
    const batched = await withLog(tmp, (log) => timed(() => appendBatches(log, batchInputs, sizes.batch)))
    results.add(`vsdb appendBatch(${sizes.batch}) ×${sizes.batches}`, batchInputs.length, batched.seconds, { baseline: bareRow, goal: 0.8 })
    settle()
    const shapeSeconds = await levelBatchesLogShape(tmp, concurrent.events, sizes.batch)
    const shapeRow = results.add(`level batch of ${sizes.batch}, log's ${LOG_SHAPE_PUTS} puts/event (${total})`, total, shapeSeconds, { baseline: levelBatchRow })

    // 3. Audit and export vs the bare verify rate.
    console.error(`3. audit and export of ${sizes.audit} events`)
    const auditInputs = makeInputs(sizes.audit, t0)
    settle()
    await withLog(tmp, async (log) => {
      const made = await timed(() => appendBatches(log, auditInputs, sizes.batch))
      extra.auditSetupAppendBatchPerSecond = sizes.audit / made.seconds
      const items = verifyItems(made.value)
      const logKey = publicKeyFromPeerId(log.node)
      bareVerify(items.slice(0, 2_000), logKey)
      settle()
      const verified = timedSync(() => bareVerify(items, logKey))
      check(verified.value === items.length, 'every event verifies')
      const verifyRow = results.add(`bare sha-256+Ed25519 verify, 1 core (${sizes.audit})`, sizes.audit, verified.seconds)
      settle()
      const audit = await timed(() => auditLog(log))
      check(audit.value.ok && audit.value.events === sizes.audit + 1, `audit ok over ${sizes.audit + 1} events: ${JSON.stringify(audit.value).slice(0, 300)}`)
      results.add(`vsdb auditLog (${audit.value.events})`, audit.value.events, audit.seconds, { baseline: verifyRow })
      extra.audit = audit.value
      settle()
      const exported = await timed(async () => {
        const car = await exportCar(log)
        let bytes = 0
        for await (const chunk of car.out) bytes += chunk.length
        return { bytes, ...(await car.done) }
      })
      check(exported.value.events === sizes.audit + 1, 'export wrote every event')
      results.add(`vsdb exportCar (${exported.value.events})`, exported.value.events, exported.seconds, { baseline: verifyRow })
      extra.carBytes = exported.value.bytes
    })

    // Where the time goes, per event, one core.
    const steps = breakdown(concurrent.events, privateKey, createPublicKey(privateKey))

    console.log(`\nlog bench${quick ? ' (quick)' : ''}: node ${process.version}, ${availableParallelism()} cores; privacy events of ${Number(extra.eventBytes).toFixed(0)} bytes`)
    results.table()
    console.log('vsdb vs OrbitDB (awaited appends): ' + sizes.single.map((n) => `${n}: ${Number(extra[`vsdbVsOrbitdb${n}`]).toFixed(1)}×`).join(', '))
    console.log(`level batch with the log's ${LOG_SHAPE_PUTS} puts/event vs 1 put/event: ${(shapeRow.ratio ?? 0).toFixed(2)}×`)
    console.log('\nper-event cost, one core:')
    console.table(steps.map((s) => ({ step: s.step, 'µs/event': Number(s.microsPerEvent.toFixed(2)), 'events/s': fmtRate(s.perSecond) })))
    const summary = {
      bench: 'log',
      quick,
      node: process.version,
      cores: availableParallelism(),
      eventType: 'privacy',
      ...extra,
      results: results.rows.map((r: Row) => ({ ...r })),
      breakdown: steps,
      goalsMet: results.rows.every((r) => r.met !== false),
    }
    console.log(JSON.stringify(summary))
  } finally {
    await tmp.removeAll()
  }
}

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
import { availableParallelism, loadavg } from 'node:os'
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
import { base32 } from 'multiformats/bases/base32'
import { base36 } from 'multiformats/bases/base36'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { checkOnWorkers } from './lib/check-workers.ts'
import { fmtRate, type Measured, Results, repeat, settle, TempDirs, timed, timedSync } from './lib/report.ts'

type Input = AppendInput<'privacy'>

interface Sizes {
  warmup: number
  single: number[]
  concurrent: number
  inFlight: number
  batch: number
  batches: number
  audit: number
  /** Runs of each cheap measurement; the table shows the median. */
  repeats: number
}

const FULL: Sizes = {
  warmup: 300,
  single: [1_000, 10_000],
  concurrent: 20_000,
  inFlight: 256,
  batch: 1_000,
  batches: 20,
  audit: 100_000,
  repeats: 3,
}
const QUICK: Sizes = {
  warmup: 50,
  single: [200, 1_000],
  concurrent: 2_000,
  inFlight: 256,
  batch: 1_000,
  batches: 4,
  audit: 5_000,
  repeats: 1,
}

const DAG_CBOR = 0x71
const SHA2_256 = 0x12

/**
 * `privacy` events: every field realistic and fixed-size, so the signed event is ≈ 262 bytes, the nearest to
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

async function oursSingle(tmp: TempDirs, inputs: Input[]): Promise<Measured & { events: StoredEvent[] }> {
  return withLog(tmp, async (log) => {
    const events: StoredEvent[] = new Array(inputs.length)
    const { seconds, cpuSeconds } = await timed(async () => {
      for (let i = 0; i < inputs.length; i++) events[i] = await log.append(inputs[i] as Input)
    })
    return { seconds, cpuSeconds, events }
  })
}

async function oursConcurrent(tmp: TempDirs, inputs: Input[], inFlight: number): Promise<Measured & { events: StoredEvent[] }> {
  return withLog(tmp, async (log) => {
    const events: StoredEvent[] = new Array(inputs.length)
    let next = 0
    const caller = async (): Promise<void> => {
      while (next < inputs.length) {
        const i = next++
        events[i] = await log.append(inputs[i] as Input)
      }
    }
    const { seconds, cpuSeconds } = await timed(() => Promise.all(Array.from({ length: inFlight }, caller)))
    return { seconds, cpuSeconds, events }
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
async function levelPuts(tmp: TempDirs, events: readonly BareEvent[]): Promise<Measured> {
  return withLevel(tmp, async (db) => {
    const run = await timed(async () => {
      for (const { cid, bytes } of events) await db.put(cid.multihash.bytes, bytes)
    })
    return run
  })
}

/** Raw Level `batch` of `size` puts at a time, awaited in turn. */
async function levelBatches(tmp: TempDirs, events: BareEvent[], size: number): Promise<Measured> {
  return withLevel(tmp, async (db) => {
    const run = await timed(async () => {
      for (let start = 0; start < events.length; start += size) {
        await db.batch(
          events.slice(start, start + size).map(({ cid, bytes }) => ({ type: 'put' as const, key: cid.multihash.bytes, value: bytes })),
        )
      }
    })
    return run
  })
}

/**
 * Raw Level `batch` in the log's write shape (as log.ts writes today): per event the block, its seq index, its
 * type index and Helia's two pin records, in sublevels, with every key and value made beforehand; plus the head
 * once per batch. The storage limit of the log's schema, as against one put per event.
 */
const LOG_SHAPE_PUTS = 5

async function levelBatchesLogShape(tmp: TempDirs, events: StoredEvent[], size: number): Promise<Measured> {
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
    const run = await timed(async () => {
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
    return run
  } finally {
    await db.close()
    await tmp.remove(dir)
  }
}

/**
 * OrbitDB 4 on Helia 6 with Level on disk (blocks, datastore, OrbitDB's own heads/index/keystore), gossipsub as
 * pubsub, and a libp2p with no transports and no listen address: nothing leaves the process.
 */
async function orbitAdds(tmp: TempDirs, inputs: Input[]): Promise<Measured> {
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
    const run = await timed(async () => {
      for (const input of inputs) await db.add(input)
    })
    await db.close()
    await orbitdb.stop()
    return run
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
  const schema = payloadSchemas.privacy
  const steps: Step[] = []
  const run = (name: string, fn: (i: number) => unknown): void => {
    for (let i = 0; i < Math.min(n, 2_000); i++) fn(i) // warm the JIT
    settle()
    const { seconds } = timedSync(() => {
      for (let i = 0; i < n; i++) fn(i)
    })
    steps.push(step(name, n, seconds))
  }
  const ev = (i: number): StoredEvent => events[i] as StoredEvent
  run('append: zod payload parse', (i) => schema.parse(ev(i).event.payload))
  run('append: DAG-CBOR encode unsigned', (i) => encodeUnsigned(unsigned[i] as (typeof unsigned)[number]))
  run('append: Ed25519 sign (KeyObject)', (i) => sign(null, unsignedBytes[i] as Uint8Array, key))
  run('append: DAG-CBOR encode signed (what a splice saves)', (i) => dagCbor.encode(signed[i]))
  run('append: cidFor (sha-256 + CID)', (i) => cidFor(ev(i).bytes))
  run('append: CID → base32 string (index keys, head)', (i) => base32.encode(ev(i).cid.bytes))
  run('append: 2 base36 pin keys (multiformats base-x)', (i) => base36.encode(ev(i).cid.bytes) + base36.encode(ev(i).cid.multihash.bytes))
  run('append: 2 base36 pin keys (BigInt.toString(36))', (i) => `k${bigBase36(ev(i).cid.bytes)}${bigBase36(ev(i).cid.multihash.bytes)}`)
  run('check: sha-256', (i) => sha256(ev(i).bytes))
  run('check: DAG-CBOR decode', (i) => dagCbor.decode(ev(i).bytes))
  run('check: decodeEvent (decode + zod + canonical check)', (i) => decodeEvent(ev(i).cid, ev(i).bytes))
  run('check: Ed25519 verify (KeyObject)', (i) => verify(null, unsignedBytes[i] as Uint8Array, publicKey, sigs[i] as Uint8Array))
  run('check: checkEventBlock (all of one event)', (i) => checkEventBlock(cidTexts[i] as string, ev(i).bytes))
  run('check: CID.parse (chain keys → CID)', (i) => CID.parse(cidTexts[i] as string))
  return steps
}

/** Base36 of bytes that do not start with 0x00 (CIDs, multihashes), the way a BigInt prints it. */
function bigBase36(bytes: Uint8Array): string {
  return BigInt(`0x${Buffer.from(bytes).toString('hex')}`).toString(36)
}

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`bench check failed: ${what}`)
}

function load(): string {
  return loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')
}

export async function main(args: string[]): Promise<void> {
  const quick = args.includes('--quick')
  const unknown = args.filter((a) => a !== '--quick')
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown[0]}; usage: npm run bench -- log [--quick]`)
  const sizes = quick ? QUICK : FULL
  const tmp = new TempDirs()
  const results = new Results()
  const t0 = Date.now()
  const { privateKey } = generateKeyPairSync('ed25519')
  const extra: Record<string, unknown> = { loadBefore: load() }
  const started = performance.now()
  console.error(
    `log bench${quick ? ' (quick)' : ''}: node ${process.version}, ${availableParallelism()} cores, load ${load()}, Level on disk in temp dirs`,
  )

  try {
    // The node id of a real log, so bare events have the same fields and sizes as the log's.
    const node = await withLog(tmp, async (log) => log.node)

    // Warm the JIT and Level for every contender, so the first measured run does not pay for it.
    const warm = makeInputs(sizes.warmup, t0)
    const warmed = await oursSingle(tmp, warm)
    await levelPuts(tmp, warmed.events)
    await levelBatchesLogShape(tmp, warmed.events, 1)
    await orbitAdds(tmp, warm.slice(0, Math.max(20, sizes.warmup / 3)))
    bareSign(makeInputs(5_000, t0), node, privateKey)

    // 1. Awaited single appends.
    console.error('1. awaited single appends')
    for (const n of sizes.single) {
      const inputs = makeInputs(n, t0)
      let events: StoredEvent[] = []
      const ours = await repeat(sizes.repeats, async (run) => {
        const r = await oursSingle(tmp, inputs)
        if (run === 0) events = r.events
        return r
      })
      extra.eventBytes = events.reduce((sum, e) => sum + e.bytes.length, 0) / events.length
      const level = results.add(`level put, awaited (${n})`, n, await repeat(sizes.repeats, () => levelPuts(tmp, events)))
      results.add(
        `level batch, log's ${LOG_SHAPE_PUTS} puts+head, awaited (${n})`,
        n,
        await repeat(sizes.repeats, () => levelBatchesLogShape(tmp, events, 1)),
        { baseline: level },
      )
      const mine = results.add(`vsdb append, awaited (${n})`, n, ours, { baseline: level, goal: 0.5 })
      settle()
      const orbit = results.add(`orbitdb events add, awaited (${n})`, n, await orbitAdds(tmp, inputs), { baseline: level })
      extra[`vsdbVsOrbitdb${n}`] = mine.perSecond / orbit.perSecond
    }

    // 2. Concurrent appends and batches vs the bare encode + sign + hash rate.
    console.error('2. concurrent appends and appendBatch')
    const total = sizes.concurrent
    const inputs = makeInputs(total, t0)
    let bareEvents: BareEvent[] = []
    const bareRow = results.add(
      `bare encode+sign+hash, 1 core (${total})`,
      total,
      await repeat(sizes.repeats, async () => {
        const r = timedSync(() => bareSign(inputs, node, privateKey))
        bareEvents = r.value
        return r
      }),
    )
    let concurrentEvents: StoredEvent[] = []
    const concurrent = await repeat(sizes.repeats, async () => {
      const r = await oursConcurrent(tmp, inputs, sizes.inFlight)
      check(r.events.length === total && r.events.every((e) => e !== undefined), 'every concurrent append resolved')
      concurrentEvents = r.events
      return r
    })
    check(
      Math.abs(bareEvents.reduce((sum, e) => sum + e.bytes.length, 0) / total - (extra.eventBytes as number)) < 2,
      "bare events are the size of the log's",
    )
    const levelBatchRow = results.add(
      `level batch of ${sizes.batch}, 1 put/event (${total})`,
      total,
      await repeat(sizes.repeats, () => levelBatches(tmp, bareEvents, sizes.batch)),
      {
        baseline: bareRow,
      },
    )
    const shapeRow = results.add(
      `level batch of ${sizes.batch}, log's ${LOG_SHAPE_PUTS} puts/event (${total})`,
      total,
      await repeat(sizes.repeats, () => levelBatchesLogShape(tmp, concurrentEvents, sizes.batch)),
      {
        baseline: bareRow,
      },
    )
    results.add(`vsdb append, ${sizes.inFlight} in flight (${total})`, total, concurrent, { baseline: bareRow, goal: 0.8 })
    const batchInputs = makeInputs(sizes.batch * sizes.batches, t0)
    const batched = await repeat(sizes.repeats, () => withLog(tmp, (log) => timed(() => appendBatches(log, batchInputs, sizes.batch))))
    results.add(`vsdb appendBatch(${sizes.batch}) ×${sizes.batches}`, batchInputs.length, batched, { baseline: bareRow, goal: 0.8 })
    extra.levelLogShapeVsOnePut = shapeRow.perSecond / levelBatchRow.perSecond

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
      const verifyRow = results.add(`bare sha-256+Ed25519 verify, 1 core (${sizes.audit})`, sizes.audit, verified)
      settle()
      const pooled = await checkOnWorkers(made.value, availableParallelism())
      results.add(`checkEventBlock on ${availableParallelism()} worker threads, no Level (${sizes.audit})`, sizes.audit, pooled, {
        baseline: verifyRow,
      })
      settle()
      const audit = await timed(() => auditLog(log))
      check(
        audit.value.ok && audit.value.events === sizes.audit + 1,
        `audit ok over ${sizes.audit + 1} events: ${JSON.stringify(audit.value).slice(0, 300)}`,
      )
      results.add(`vsdb auditLog (${audit.value.events})`, audit.value.events, audit, { baseline: verifyRow })
      extra.audit = audit.value
      settle()
      const exported = await timed(async () => {
        const start = performance.now()
        const car = await exportCar(log)
        const rootsSeconds = (performance.now() - start) / 1000
        let bytes = 0
        for await (const chunk of car.out) bytes += chunk.length
        return { bytes, rootsSeconds, ...(await car.done) }
      })
      check(exported.value.events === sizes.audit + 1, 'export wrote every event')
      results.add(`vsdb exportCar (${exported.value.events})`, exported.value.events, exported, { baseline: verifyRow })
      const { bytes, blocks, rootsSeconds } = exported.value
      extra.export = { carBytes: bytes, blocks, seconds: exported.seconds, rootsSeconds }
    })

    // Where the time goes, per event, one core.
    const steps = breakdown(concurrentEvents, privateKey, createPublicKey(privateKey))
    extra.loadAfter = load()
    extra.totalSeconds = (performance.now() - started) / 1000

    console.log(
      `\nlog bench${quick ? ' (quick)' : ''}: node ${process.version}, ${availableParallelism()} cores, load ${extra.loadBefore} → ${extra.loadAfter}; ` +
        `privacy events of ${Number(extra.eventBytes).toFixed(0)} bytes; median of ${sizes.repeats} where several runs`,
    )
    results.table()
    console.log(
      `vsdb vs OrbitDB, awaited appends: ${sizes.single.map((n) => `${n}: ${Number(extra[`vsdbVsOrbitdb${n}`]).toFixed(1)}×`).join(', ')}`,
    )
    console.log(`level batch of the log's ${LOG_SHAPE_PUTS} puts/event vs 1 put/event: ${Number(extra.levelLogShapeVsOnePut).toFixed(2)}×`)
    console.log('\nper-event cost, one core:')
    console.table(steps.map((s) => ({ step: s.step, 'µs/event': Number(s.microsPerEvent.toFixed(2)), 'events/s': fmtRate(s.perSecond) })))
    const summary = {
      bench: 'log',
      quick,
      node: process.version,
      cores: availableParallelism(),
      eventType: 'privacy',
      ...extra,
      results: results.rows,
      breakdown: steps,
      goalsMet: results.rows.every((r) => r.met !== false),
    }
    console.log(JSON.stringify(summary))
  } finally {
    await tmp.removeAll()
  }
}

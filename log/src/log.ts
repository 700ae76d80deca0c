import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import * as dagCbor from '@ipld/dag-cbor'
import type { AbstractChainedBatch } from 'abstract-level'
import { ClassicLevel } from 'classic-level'
import type { Helia } from 'helia'
import type { CID } from 'multiformats/cid'
import { CID as CIDClass } from 'multiformats/cid'
import type { SignedDraft } from './assemble.ts'
import { type ChainSigner, createChainSigner } from './chain-signer.ts'
import { type Block, bytesMatchCid, decodeStoredEvent, type SignedEvent, validatePayload } from './codec.ts'
import { DATA_FORMAT, type DataDirPaths, dataDirPaths, type NodeConfig, readConfig, writeConfig } from './data-dir.ts'
import { isVsdbError, VsdbError } from './errors.ts'
import { generateSigner, readKeyFile, type Signer, writeKeyFile } from './keys.ts'
import { type BlockSublevel, blockKey, corruptBlock, LevelBlockstore } from './level-blockstore.ts'
import { pinnedBlockKey, pinRecords } from './pins.ts'
import type { EventType, PayloadOf, RetentionPolicy } from './schema.ts'

export interface StoredEvent<T extends EventType = EventType> {
  cid: CID
  bytes: Uint8Array
  event: SignedEvent<T>
}

export interface AppendInput<T extends EventType = EventType> {
  type: T
  payload: PayloadOf<T>
  /** Blocks the payload links to (e.g. a batch of observations); written in the same atomic batch. */
  blocks?: Block[]
  ts?: number
}

export interface Head {
  node: string
  seq: number
  cid: CID
}

export interface LogStats {
  events: number
  blocks: number
  nodes: number
  pins: number
}

export interface OpenLogOptions {
  dir: string
  /** fsync every commit: survives power loss, not just a killed process. */
  sync?: boolean
  /** Most events one group commit takes from concurrent callers (an appendBatch is never split). Small groups keep two in flight: one signing while the one before it is written. */
  maxGroup?: number
}

/** An input checked against its schema, its time fixed: ready to be encoded and chained. */
interface Prepared {
  input: AppendInput
  ts: number
}

// Events per slice sent to the signing worker: small enough to overlap encoding, signing and batching.
const SLICE = 128

interface Pending {
  inputs: Prepared[]
  /** Writes that must land in the same batch (verified foreign events and blocks). */
  extraOps?: Op[]
  resolve: (events: StoredEvent[]) => void
  reject: (err: unknown) => void
}

interface BuiltGroup {
  pendings: Pending[]
  events: StoredEvent[][]
  /** Filled while the group is signed, slice by slice; written once, atomically, when the group commits. */
  batch: ChainedBatch
  base: Head | null
  head: Head | null
}

/** Any of the log's sublevels; their key and value encodings differ, so batch writes name them loosely. */
type Sublevel = object
type ChainedBatch = AbstractChainedBatch<ClassicLevel<string, Uint8Array>, string, Uint8Array>
interface Op {
  sublevel: Sublevel
  key: string | Uint8Array
  /** Absent: the key is deleted (a block released by a `retention` event of this batch, and its pins). */
  value?: string | Uint8Array
}
type Put = (sublevel: Sublevel, key: string | Uint8Array, value: string | Uint8Array) => void

const SEQ_WIDTH = 13

export function seqKey(seq: number): string {
  return seq.toString(16).padStart(SEQ_WIDTH, '0')
}

/** The node's log: its own signed chain, the chains of other nodes it holds, and the blocks they link. */
export interface Log {
  readonly dir: string
  readonly paths: DataDirPaths
  readonly config: NodeConfig
  /** This node's PeerId: the `node` of every event it appends. */
  readonly node: string
  readonly blockstore: LevelBlockstore
  /**
   * Helia over the same blocks: the node's IPFS archive, started on first use (loading Helia costs ~90 MB
   * and most commands never need it: pins are written with the blocks).
   */
  helia(): Promise<Helia>
  head(): Head | null
  heads(): Promise<Head[]>
  append<T extends EventType>(input: AppendInput<T>): Promise<StoredEvent<T>>
  appendBatch(inputs: AppendInput[]): Promise<StoredEvent[]>
  getBlock(cid: CID): Promise<Uint8Array>
  hasBlock(cid: CID): Promise<boolean>
  getEvent(cid: CID): Promise<StoredEvent>
  /** Several events in one read of the store (each block hash-checked), in the order asked. */
  getEvents(cids: CID[]): Promise<StoredEvent[]>
  /** Events of one node in seq order (every CID recorded at each seq, forks included). */
  chain(node: string, options?: { fromSeq?: number }): AsyncGenerator<{ seq: number; cid: CID }>
  byType(type: EventType): AsyncGenerator<{ node: string; seq: number; cid: CID }>
  nodes(): Promise<string[]>
  cidsAt(node: string, seq: number): Promise<CID[]>
  stats(): Promise<LogStats>
  /** Whether each block is pinned (one multi-get). */
  pinned(cids: CID[]): Promise<boolean[]>
  /** Writes already-verified foreign events and blocks, plus events of our own, in one atomic batch. */
  writeVerified(foreign: StoredEvent[], blocks: Block[], own: AppendInput[]): Promise<StoredEvent[]>
  close(): Promise<void>
}

class LevelLog implements Log {
  readonly dir: string
  readonly paths: DataDirPaths
  config: NodeConfig
  readonly node: string
  readonly blockstore: LevelBlockstore
  #heliaNode: Promise<Helia> | null = null
  readonly #db: ClassicLevel<string, Uint8Array>
  readonly #blocks: BlockSublevel
  readonly #seq
  readonly #types
  readonly #heads
  readonly #helia
  readonly #chain: ChainSigner
  readonly #sync: boolean
  readonly #maxGroup: number
  #head: Head | null = null
  #durableHead: Head | null = null
  #queue: Pending[] = []
  #draining = false
  #closed = false

  constructor(paths: DataDirPaths, config: NodeConfig, signer: Signer, db: ClassicLevel<string, Uint8Array>, options: OpenLogOptions) {
    this.dir = paths.dir
    this.paths = paths
    this.config = config
    this.node = signer.node
    this.#chain = createChainSigner(signer)
    this.#db = db
    this.#sync = options.sync ?? false
    this.#maxGroup = options.maxGroup ?? 128
    this.#blocks = db.sublevel<Uint8Array, Uint8Array>('blocks', { keyEncoding: 'view', valueEncoding: 'view' })
    this.#seq = db.sublevel<string, string>('seq', { valueEncoding: 'utf8' })
    this.#types = db.sublevel<string, string>('type', { valueEncoding: 'utf8' })
    this.#heads = db.sublevel<string, string>('heads', { valueEncoding: 'utf8' })
    this.#helia = db.sublevel<string, Uint8Array>('helia', { valueEncoding: 'view' })
    this.blockstore = new LevelBlockstore(this.#blocks)
  }

  async start(): Promise<void> {
    const raw = await this.#heads.get(this.node)
    if (raw !== undefined) {
      const head = await this.#lastOf(this.node)
      this.#head = head
      this.#durableHead = head
    }
  }

  async #lastOf(node: string): Promise<Head | null> {
    for await (const key of this.#seq.keys({ gte: `${node}!`, lt: `${node}!~`, reverse: true, limit: 1 })) {
      return parseSeqKey(key)
    }
    return null
  }

  head(): Head | null {
    return this.#head
  }

  async heads(): Promise<Head[]> {
    const out: Head[] = []
    for await (const node of this.#heads.keys()) {
      const last = await this.#lastOf(node)
      if (last === null) continue
      for (const cid of await this.cidsAt(node, last.seq)) out.push({ node, seq: last.seq, cid })
    }
    return out
  }

  async append<T extends EventType>(input: AppendInput<T>): Promise<StoredEvent<T>> {
    const [event] = await this.appendBatch([input])
    return event as StoredEvent<T>
  }

  appendBatch(inputs: AppendInput[]): Promise<StoredEvent[]> {
    if (this.#closed) return Promise.reject(new VsdbError('CLOSED', 'the log is closed'))
    if (inputs.length === 0) return Promise.resolve([])
    let checked: Prepared[]
    try {
      checked = inputs.map(prepare)
    } catch (err) {
      return Promise.reject(err)
    }
    const enqueue = (extraOps?: Op[]) =>
      new Promise<StoredEvent[]>((resolve, reject) => {
        if (this.#closed) return reject(new VsdbError('CLOSED', 'the log is closed'))
        this.#queue.push({ inputs: checked, extraOps, resolve, reject })
        if (!this.#draining) void this.#drain()
      })
    const releases = checked.filter(
      ({ input }) => input.type === 'retention' && (input.payload as PayloadOf<'retention'>).released.length > 0,
    )
    if (releases.length === 0) return enqueue()
    // A release is checked against the store first (so it joins the queue after that check, not at the call).
    return this.#releaseOps(releases.map(({ input }) => input.payload as PayloadOf<'retention'>)).then(enqueue)
  }

  /**
   * The deletions a release makes, in the same atomic write as its `retention` event: each named event must be an
   * `ingest` event of this node held here, its batch block held, and `bytes` their size. Only those batch blocks
   * (and their two Helia pin records) are ever deleted: never an event, a segment's data or anything else.
   */
  async #releaseOps(payloads: PayloadOf<'retention'>[]): Promise<Op[]> {
    const ops: Op[] = []
    for (const payload of payloads) {
      const batches = new Map<string, CID>()
      for (const [i, cid] of payload.released.entries()) {
        const field = `payload.released.${i}`
        const bad = (what: string) =>
          new VsdbError('INVALID_EVENT', `retention event: ${field}: ${cid} ${what}`, { field, cid: cid.toString() })
        if (!(await this.hasBlock(cid))) throw bad('is not an event held here')
        let event: StoredEvent['event']
        try {
          ;({ event } = await this.getEvent(cid))
        } catch {
          throw bad('is not an event')
        }
        if (event.node !== this.node) throw bad(`is an event of node ${event.node}, not of this node`)
        if (event.type !== 'ingest') throw bad(`is a ${event.type} event, not an ingest event`)
        const batch = (event.payload as PayloadOf<'ingest'>).batch
        batches.set(Buffer.from(batch.multihash.bytes).toString('base64'), batch)
      }
      const cids = [...batches.values()]
      const held = await this.blockstore.getRawMany(cids)
      let bytes = 0
      for (const [i, cid] of cids.entries()) {
        const block = held[i]
        if (block === undefined) {
          throw new VsdbError('INVALID_EVENT', `retention event: batch block ${cid} is not held here (released already?)`, {
            field: 'payload.released',
            cid: cid.toString(),
          })
        }
        bytes += block.byteLength
        ops.push({ sublevel: this.#blocks, key: blockKey(cid) })
        for (const { key } of pinRecords(cid)) ops.push({ sublevel: this.#helia, key })
      }
      if (bytes !== payload.bytes) {
        throw new VsdbError('INVALID_EVENT', `retention event: payload.bytes: says ${payload.bytes}, the released blocks hold ${bytes}`, {
          field: 'payload.bytes',
        })
      }
    }
    return ops
  }

  /**
   * Group commit: events queued while a batch is being written are signed into the next batch, so
   * many concurrent appends share one Level write while the CPU signs the next group.
   */
  async #drain(): Promise<void> {
    this.#draining = true
    let writing: Promise<void> = Promise.resolve()
    try {
      while (this.#queue.length > 0) {
        let take = 0
        let count = 0
        for (const next of this.#queue) {
          if (take > 0 && count + next.inputs.length > this.#maxGroup) break
          take++
          count += next.inputs.length
        }
        const pendings = this.#queue.splice(0, take)
        let group: BuiltGroup
        try {
          group = await this.#build(pendings)
        } catch (err) {
          for (const pending of pendings) pending.reject(err)
          continue
        }
        const previous = writing
        writing = previous.then(() => this.#commit(group))
        await previous
      }
      await writing
    } finally {
      this.#draining = false
    }
    if (this.#queue.length > 0) void this.#drain()
  }

  async #build(pendings: Pending[]): Promise<BuiltGroup> {
    const base = this.#head
    const batch: ChainedBatch = this.#db.batch()
    const put: Put = (sublevel, key, value) => {
      batch.put(key as string, value as Uint8Array, { sublevel: sublevel as never })
    }
    // Extra writes first: a block this group both releases and links again (an ingest of the same batch) stays.
    for (const pending of pendings) {
      for (const op of pending.extraOps ?? []) {
        if (op.value === undefined) batch.del(op.key as string, { sublevel: op.sublevel as never })
        else put(op.sublevel, op.key, op.value)
      }
    }
    const prepared = pendings.flatMap((pending) => pending.inputs)
    const run = this.#chain.begin(base, prepared.length)
    const slices: Promise<SignedDraft[]>[] = []
    for (let start = 0; start < prepared.length; start += SLICE) {
      const drafts = prepared
        .slice(start, start + SLICE)
        .map(({ input, ts }) => ({ type: input.type, ts, payload: dagCbor.encode(input.payload) }))
      const slice = run.push(drafts)
      slice.catch(() => {}) // awaited below, in order; this only keeps a later slice's failure from going unhandled
      slices.push(slice)
    }
    const stored: StoredEvent[] = []
    let head = base
    try {
      for (const slice of slices) {
        for (const { bytes, cid, sig } of await slice) {
          const { input, ts } = prepared[stored.length] as Prepared
          const seq = head === null ? 0 : head.seq + 1
          const event = {
            v: 1 as const,
            type: input.type,
            node: this.node,
            seq,
            ts,
            prev: head === null ? null : head.cid,
            payload: input.payload,
            sig,
          }
          const storedEvent: StoredEvent = { cid, bytes, event }
          this.#eventOps(storedEvent, input.blocks ?? [], put)
          stored.push(storedEvent)
          head = { node: this.node, seq, cid }
        }
      }
    } catch (err) {
      await batch.close().catch(() => {})
      throw err
    }
    const events: StoredEvent[][] = []
    let offset = 0
    for (const pending of pendings) {
      events.push(stored.slice(offset, offset + pending.inputs.length))
      offset += pending.inputs.length
    }
    if (head !== null && head !== base) put(this.#heads, this.node, `${head.seq} ${head.cid}`)
    this.#head = head
    return { pendings, events, batch, base, head }
  }

  #eventOps(stored: StoredEvent, blocks: Block[], put: Put): void {
    const { cid, event } = stored
    const position = `${event.node}!${seqKey(event.seq)}!${cid}`
    put(this.#blocks, blockKey(cid), stored.bytes)
    put(this.#seq, position, '')
    put(this.#types, `${event.type}!${position}`, '')
    this.#pinOps(cid, put)
    for (const block of blocks) this.#blockOps(block, put)
  }

  #blockOps(block: Block, put: Put): void {
    put(this.#blocks, blockKey(block.cid), block.bytes)
    this.#pinOps(block.cid, put)
  }

  #pinOps(cid: CID, put: Put): void {
    for (const { key, value } of pinRecords(cid)) put(this.#helia, key, value)
  }

  async #commit(group: BuiltGroup): Promise<void> {
    try {
      if (group.base?.cid.toString() !== this.#durableHead?.cid.toString()) {
        throw new VsdbError('WRITE_FAILED', 'an earlier write in the same pipeline failed; nothing of this batch was written')
      }
      await group.batch.write({ sync: this.#sync })
      this.#durableHead = group.head
    } catch (err) {
      await group.batch.close().catch(() => {})
      this.#head = this.#durableHead
      const error = isVsdbError(err) ? err : new VsdbError('WRITE_FAILED', `write failed: ${(err as Error).message}`, {}, { cause: err })
      for (const pending of group.pendings) pending.reject(error)
      return
    }
    for (const [i, pending] of group.pendings.entries()) pending.resolve(group.events[i] as StoredEvent[])
  }

  async writeVerified(foreign: StoredEvent[], blocks: Block[], own: AppendInput[]): Promise<StoredEvent[]> {
    const ops: Op[] = []
    const collect: Put = (sublevel, key, value) => {
      ops.push({ sublevel, key, value })
    }
    const lastByNode = new Map<string, Head>()
    for (const stored of foreign) {
      this.#eventOps(stored, [], collect)
      const { node, seq } = stored.event
      const last = lastByNode.get(node)
      if (last === undefined || seq > last.seq) lastByNode.set(node, { node, seq, cid: stored.cid })
    }
    for (const block of blocks) this.#blockOps(block, collect)
    for (const head of lastByNode.values()) {
      if (head.node === this.node) continue
      const known = await this.#lastOf(head.node)
      if (known === null || head.seq > known.seq) {
        collect(this.#heads, head.node, `${head.seq} ${head.cid}`)
      }
    }
    const checked = own.map(prepare)
    if (this.#closed) throw new VsdbError('CLOSED', 'the log is closed')
    return new Promise((resolve, reject) => {
      this.#queue.push({ inputs: checked, extraOps: ops, resolve, reject })
      if (!this.#draining) void this.#drain()
    })
  }

  helia(): Promise<Helia> {
    this.#heliaNode ??= import('./archive.ts').then(({ startArchive }) => startArchive(this.blockstore, this.#helia))
    return this.#heliaNode
  }

  async getBlock(cid: CID): Promise<Uint8Array> {
    const bytes = await this.blockstore.getVerified(cid)
    if (bytes === undefined) throw new VsdbError('NOT_FOUND', `block ${cid} is not held here`, { cid: cid.toString() })
    return bytes
  }

  hasBlock(cid: CID): Promise<boolean> {
    return this.blockstore.has(cid)
  }

  async getEvent(cid: CID): Promise<StoredEvent> {
    const bytes = await this.getBlock(cid)
    return { cid, bytes, event: decodeStoredEvent(cid, bytes) }
  }

  async getEvents(cids: CID[]): Promise<StoredEvent[]> {
    const found = await this.blockstore.getRawMany(cids)
    return cids.map((cid, i) => {
      const bytes = found[i]
      if (bytes === undefined) throw new VsdbError('NOT_FOUND', `block ${cid} is not held here`, { cid: cid.toString() })
      if (!bytesMatchCid(cid, bytes)) throw corruptBlock(cid)
      return { cid, bytes, event: decodeStoredEvent(cid, bytes) }
    })
  }

  async *chain(node: string, options: { fromSeq?: number } = {}): AsyncGenerator<{ seq: number; cid: CID }> {
    const from = `${node}!${seqKey(options.fromSeq ?? 0)}`
    for await (const key of this.#seq.keys({ gte: from, lt: `${node}!~` })) {
      const { seq, cid } = parseSeqKey(key)
      yield { seq, cid }
    }
  }

  async *byType(type: EventType): AsyncGenerator<{ node: string; seq: number; cid: CID }> {
    for await (const key of this.#types.keys({ gte: `${type}!`, lt: `${type}!~` })) {
      yield parseSeqKey(key.slice(type.length + 1))
    }
  }

  async nodes(): Promise<string[]> {
    return this.#heads.keys().all()
  }

  async cidsAt(node: string, seq: number): Promise<CID[]> {
    const prefix = `${node}!${seqKey(seq)}!`
    const keys = await this.#seq.keys({ gte: prefix, lt: `${prefix}~` }).all()
    return keys.map((key) => parseSeqKey(key).cid)
  }

  async stats(): Promise<LogStats> {
    let events = 0
    for await (const _ of this.#seq.keys()) events++
    let blocks = 0
    for await (const _ of this.#blocks.keys()) blocks++
    let pins = 0
    for await (const _ of this.#helia.keys({ gte: '/pin/', lt: '/pin0' })) pins++
    return { events, blocks, nodes: (await this.nodes()).length, pins }
  }

  async pinned(cids: CID[]): Promise<boolean[]> {
    const found = await this.#helia.getMany(cids.map(pinnedBlockKey))
    return found.map((value) => value !== undefined)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    while (this.#draining) await new Promise((r) => setTimeout(r, 1))
    this.#closed = true
    await this.#chain.close()
    if (this.#heliaNode !== null) await (await this.#heliaNode).stop()
    await this.#db.close()
    await rm(this.paths.owner, { force: true })
  }
}

function prepare(input: AppendInput): Prepared {
  return { input: { ...input, payload: validatePayload(input.type, input.payload) }, ts: input.ts ?? Date.now() }
}

function parseSeqKey(key: string): Head {
  const [node, seq, cid] = key.split('!')
  return { node: node as string, seq: Number.parseInt(seq as string, 16), cid: CIDClass.parse(cid as string) }
}

async function openDatabase(paths: DataDirPaths): Promise<ClassicLevel<string, Uint8Array>> {
  const db = new ClassicLevel<string, Uint8Array>(paths.db, { valueEncoding: 'view' })
  try {
    await db.open()
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause
    if (cause?.code === 'LEVEL_LOCKED') {
      let owner = ''
      try {
        const info = JSON.parse(await readFile(paths.owner, 'utf8')) as { pid?: number }
        if (info.pid !== undefined) owner = ` (pid ${info.pid})`
      } catch {}
      throw new VsdbError('IN_USE', `data directory ${paths.dir} is in use by another process${owner}`, { path: paths.dir }, { cause: err })
    }
    throw new VsdbError(
      'WRITE_FAILED',
      `cannot open the store in ${paths.dir}: ${(err as Error).message}`,
      { path: paths.dir },
      { cause: err },
    )
  }
  await writeFile(paths.owner, JSON.stringify({ pid: process.pid, since: new Date().toISOString() }))
  return db
}

export async function openLog(options: OpenLogOptions): Promise<Log> {
  const paths = dataDirPaths(options.dir)
  const config = await readConfig(paths)
  const signer = await readKeyFile(paths.key)
  if (signer.node !== config.node) {
    throw new VsdbError('INVALID_INPUT', `node key in ${paths.key} does not match config node ${config.node}`, { field: 'node' })
  }
  const db = await openDatabase(paths)
  const log = new LevelLog(paths, config, signer, db, options)
  try {
    await log.start()
  } catch (err) {
    await db.close()
    throw err
  }
  return log
}

export interface InitOptions {
  dir: string
  role?: 'edge' | 'coordinator'
  cluster?: string
  /** Raw retention policy, recorded as a `retention` event right after the genesis (none: `keep`, unrecorded). */
  raw?: RetentionPolicy
}

/** Creates a data directory: the node key (0600), the store, and the genesis `manifest` event. */
export async function initLog(options: InitOptions): Promise<Log> {
  const paths = dataDirPaths(options.dir)
  try {
    await readConfig(paths)
    throw new VsdbError('ALREADY_INITIALIZED', `${paths.dir} already holds a vsdb node`, { path: paths.dir })
  } catch (err) {
    if (!isVsdbError(err, 'NOT_INITIALIZED')) throw err
  }
  await mkdir(paths.dir, { recursive: true, mode: 0o700 })
  let signer: Signer
  try {
    signer = await readKeyFile(paths.key)
  } catch {
    signer = await generateSigner()
    await writeKeyFile(paths.key, signer)
  }
  const role = options.role ?? 'edge'
  const cluster = options.cluster ?? `vsdb-${signer.node.slice(-8)}`
  const db = await openDatabase(paths)
  const provisional: NodeConfig = {
    format: DATA_FORMAT,
    node: signer.node,
    role,
    cluster,
    createdAt: new Date().toISOString(),
    genesis: '',
  }
  const log = new LevelLog(paths, provisional, signer, db, { dir: paths.dir })
  try {
    await log.start()
  } catch (err) {
    await db.close()
    throw err
  }
  // A directory left by an init that stopped before its config was written already holds its genesis (seq 0).
  const [held] = log.head() === null ? [] : await log.cidsAt(signer.node, 0)
  let genesis: Head | null = held === undefined ? null : { node: signer.node, seq: 0, cid: held }
  if (genesis === null) {
    const inputs: AppendInput[] = [{ type: 'manifest', payload: { format: DATA_FORMAT, role, cluster, software: 'vsdb/0.1.0' } }]
    if (options.raw !== undefined)
      inputs.push({ type: 'retention', payload: { policy: options.raw, released: [], bytes: 0, resume: null } })
    const [stored] = await log.appendBatch(inputs)
    genesis = { node: signer.node, seq: 0, cid: (stored as StoredEvent).cid }
  }
  await writeConfig(paths, { ...provisional, genesis: genesis.cid.toString() })
  log.config = { ...provisional, genesis: genesis.cid.toString() }
  return log
}

import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import * as dagCbor from '@ipld/dag-cbor'
import { ClassicLevel } from 'classic-level'
import type { Helia } from 'helia'
import type { CID } from 'multiformats/cid'
import { CID as CIDClass } from 'multiformats/cid'
import type { EventDraft, SignedDraft } from './assemble.ts'
import { type ChainSigner, type ChainTip, createChainSigner } from './chain-signer.ts'
import { type Block, blockMatchesCid, bytesMatchCid, decodeStoredEvent, type SignedEvent, validatePayload } from './codec.ts'
import {
  DATA_FORMAT,
  type DataDirPaths,
  dataDirPaths,
  type NodeConfig,
  parseConfig,
  readConfig,
  readConfigText,
  writeConfig,
} from './data-dir.ts'
import { isVsdbError, VsdbError } from './errors.ts'
import { generateSigner, readKeyFile, type Signer, writeKeyFile } from './keys.ts'
import { type BlockSublevel, blockKey, corruptBlock, LevelBlockstore } from './level-blockstore.ts'
import { pinnedBlockKey, pinRecords } from './pins.ts'
import { type EventType, envelopeSchema, type PayloadOf, type RetentionPolicy } from './schema.ts'

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
  /** Most events one group commit writes for concurrent callers (an appendBatch is never split). */
  maxGroup?: number
}

/** An input checked against its schema, its time fixed: ready to be encoded and chained. */
interface Prepared {
  input: AppendInput
  ts: number
}

// Events per slice sent to the signing worker: small enough to overlap encoding, signing and batching.
const SLICE = 32

interface Pending {
  inputs: Prepared[]
  /** Writes that must land in the same batch (verified foreign events and blocks). */
  extraOps?: Op[]
  resolve: (events: StoredEvent[]) => void
  reject: (err: unknown) => void
}

/** A caller's inputs on their way through the pipeline: signed, turned into writes, written. */
interface Job {
  pending: Pending
  events: StoredEvent[]
  /** Its events' writes, made as they are signed; they follow every job's extra writes in the group's batch. */
  ops: Op[]
  /**
   * A large job (an appendBatch of a slice or more) fills its own batch as its slices are signed, so its
   * writes are made while the worker signs the rest, not after; it is written alone.
   */
  batch: ChainedBatch | null
  put: Put
  settled: boolean
}

/** Drafts posted to the signing worker, with the job and input of each. */
interface Slice {
  /** The pipeline epoch they were posted in: a failure since then makes them links of a chain that is gone. */
  epoch: number
  jobs: Job[]
  inputs: Prepared[]
  signed: Promise<SignedDraft[]>
}

/** Any of the log's sublevels; their key and value encodings differ, so batch writes name them loosely. */
type Sublevel = object
type ChainedBatch = ReturnType<ClassicLevel<string, Uint8Array>['batch']>
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
  /** This node's last event on disk: what a reader can fetch (events being signed or written are not yet it). */
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
  /** The last event of the last job fully signed (written or not): where a caller's next events will follow. */
  #head: Head | null = null
  #durableHead: Head | null = null
  /** The last event signed and built, possibly partway through a job. */
  #tip: Head | null = null
  #queue: Pending[] = []
  #pumpScheduled = false
  /** Posted to the worker, waiting for their signatures; built in this order. */
  #slices: Slice[] = []
  #consuming = false
  /** Whether the worker's chain ends where #tip will be once the slices in flight are built. */
  #workerChained = false
  #epoch = 0
  /** Signed and built, waiting for the next write. */
  #ready: Job[] = []
  #writing = false
  #closed = false
  #closing: Promise<void> | null = null
  #wrote = false

  constructor(paths: DataDirPaths, config: NodeConfig, signer: Signer, db: ClassicLevel<string, Uint8Array>, options: OpenLogOptions) {
    this.dir = paths.dir
    this.paths = paths
    this.config = config
    this.node = signer.node
    this.#chain = createChainSigner(signer)
    this.#db = db
    this.#sync = options.sync ?? false
    this.#maxGroup = options.maxGroup ?? 1024
    this.#blocks = db.sublevel<Uint8Array, Uint8Array>('blocks', { keyEncoding: 'view', valueEncoding: 'view' })
    this.#seq = db.sublevel<string, string>('seq', { valueEncoding: 'utf8' })
    this.#types = db.sublevel<string, string>('type', { valueEncoding: 'utf8' })
    this.#heads = db.sublevel<string, string>('heads', { valueEncoding: 'utf8' })
    this.#helia = db.sublevel<string, Uint8Array>('helia', { valueEncoding: 'view' })
    this.blockstore = new LevelBlockstore(this.#blocks)
  }

  async start(): Promise<void> {
    // Both reads at once (an open waits on them); the last seq counts only when the node has a head.
    const [raw, head] = await Promise.all([this.#heads.get(this.node), this.#lastOf(this.node)])
    if (raw !== undefined) {
      this.#head = head
      this.#durableHead = head
      this.#tip = head
    }
  }

  async #lastOf(node: string): Promise<Head | null> {
    for await (const key of this.#seq.keys({ gte: `${node}!`, lt: `${node}!~`, reverse: true, limit: 1 })) {
      return parseSeqKey(key)
    }
    return null
  }

  head(): Head | null {
    return this.#durableHead
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
    const enqueue = (extraOps?: Op[]) => this.#enqueue(checked, extraOps)
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

  #enqueue(inputs: Prepared[], extraOps?: Op[]): Promise<StoredEvent[]> {
    if (this.#closed) return Promise.reject(new VsdbError('CLOSED', 'the log is closed'))
    return new Promise((resolve, reject) => {
      this.#queue.push({ inputs, extraOps, resolve, reject })
      // An idle log takes a lone append at once; a busy one gathers what callers queue in this turn.
      if (this.#idle()) this.#pump()
      else this.#schedulePump()
    })
  }

  #idle(): boolean {
    return !this.#writing && !this.#pumpScheduled && this.#slices.length === 0 && this.#ready.length === 0
  }

  #busy(): boolean {
    return !this.#idle() || this.#queue.length > 0 || this.#consuming
  }

  #schedulePump(): void {
    if (this.#pumpScheduled) return
    this.#pumpScheduled = true
    setImmediate(() => {
      this.#pumpScheduled = false
      this.#pump()
    })
  }

  /**
   * Group commit, as a pipeline: queued events are signed in the worker as one continuous chain, slice after
   * slice, while the main thread turns the slices signed before into writes and one Level batch is written
   * with every job ready when the write before it ends. The worker is kept busy, which is the limit.
   */
  #pump(): void {
    const pendings = this.#queue.splice(0)
    if (pendings.length === 0) return
    const jobs = pendings.map((pending) => this.#job(pending))
    const size = pendings.reduce((sum, pending) => sum + pending.inputs.length, 0)
    if (this.#slices.length === 0 && !this.#chain.wantsWorker(size, !this.#idle())) this.#signInline(jobs)
    else this.#post(jobs)
    this.#flush()
  }

  #job(pending: Pending): Job {
    const ops: Op[] = []
    if (pending.inputs.length < SLICE) {
      const put: Put = (sublevel, key, value) => {
        ops.push({ sublevel, key, value })
      }
      return { pending, events: [], ops, batch: null, put, settled: false }
    }
    const batch = this.#db.batch()
    const put: Put = (sublevel, key, value) => {
      batch.put(key as string, value as Uint8Array, { sublevel: sublevel as never })
    }
    putExtras(batch, pending.extraOps)
    return { pending, events: [], ops, batch, put, settled: false }
  }

  #signInline(jobs: Job[]): void {
    this.#workerChained = false
    for (const job of jobs) {
      const drafts = this.#draftsOf(job)
      if (drafts === null) continue
      let signed: SignedDraft[]
      try {
        signed = this.#chain.sign(this.#tip, drafts)
      } catch (err) {
        this.#fail([job], err)
        continue
      }
      for (const [i, draft] of signed.entries()) this.#buildEvent(job, job.pending.inputs[i] as Prepared, draft)
      if (drafts.length === 0) this.#ready.push(job)
    }
  }

  #post(jobs: Job[]): void {
    let slice: { jobs: Job[]; inputs: Prepared[]; drafts: EventDraft[] } = { jobs: [], inputs: [], drafts: [] }
    for (const job of jobs) {
      const drafts = this.#draftsOf(job)
      if (drafts === null) continue
      // Writes with no events of ours (a writeVerified of foreign events only) do not wait for the chain.
      if (drafts.length === 0) this.#ready.push(job)
      for (const [i, draft] of drafts.entries()) {
        slice.jobs.push(job)
        slice.inputs.push(job.pending.inputs[i] as Prepared)
        slice.drafts.push(draft)
        if (slice.drafts.length === SLICE) {
          this.#postSlice(slice)
          slice = { jobs: [], inputs: [], drafts: [] }
        }
      }
    }
    if (slice.drafts.length > 0) this.#postSlice(slice)
    if (!this.#consuming) void this.#consume()
  }

  #draftsOf(job: Job): EventDraft[] | null {
    try {
      return job.pending.inputs.map(({ input, ts }) => ({ type: input.type, ts, payload: dagCbor.encode(input.payload) }))
    } catch (err) {
      this.#fail([job], err)
      return null
    }
  }

  #postSlice({ jobs, inputs, drafts }: { jobs: Job[]; inputs: Prepared[]; drafts: EventDraft[] }): void {
    // After an inline run or a failure the worker's chain restarts at the tip (every slice before is built or stale).
    const tip: ChainTip | undefined = this.#workerChained ? undefined : this.#tip
    this.#workerChained = true
    const signed = this.#chain.post(drafts, tip)
    signed.catch(() => {}) // awaited in order by #consume
    this.#slices.push({ epoch: this.#epoch, jobs, inputs, signed })
  }

  async #consume(): Promise<void> {
    this.#consuming = true
    try {
      for (let slice = this.#slices[0]; slice !== undefined; slice = this.#slices[0]) {
        let signed: SignedDraft[] | null = null
        let error: unknown
        try {
          signed = await slice.signed
        } catch (err) {
          error = err
        }
        this.#slices.shift()
        if (slice.epoch !== this.#epoch) {
          this.#fail(slice.jobs, earlierWriteFailed())
        } else if (signed === null) {
          // Later slices continue a chain the worker did not finish: they are stale, and the job cut short is dropped.
          this.#epoch++
          this.#workerChained = false
          this.#tip = this.#head
          this.#fail(slice.jobs, error)
        } else {
          for (const [i, draft] of signed.entries()) this.#buildEvent(slice.jobs[i] as Job, slice.inputs[i] as Prepared, draft)
        }
        this.#flush()
      }
    } finally {
      this.#consuming = false
    }
  }

  #buildEvent(job: Job, { input, ts }: Prepared, { bytes, cid, sig }: SignedDraft): void {
    const tip = this.#tip
    const seq = tip === null ? 0 : tip.seq + 1
    const event = {
      v: 1 as const,
      type: input.type,
      node: this.node,
      seq,
      ts,
      prev: tip === null ? null : tip.cid,
      payload: input.payload,
      sig,
    }
    const stored: StoredEvent = { cid, bytes, event }
    this.#eventOps(stored, input.blocks ?? [], job.put)
    job.events.push(stored)
    this.#tip = { node: this.node, seq, cid }
    if (job.events.length === job.pending.inputs.length) {
      this.#head = this.#tip
      this.#ready.push(job)
    }
  }

  /** Writes the next jobs ready in one batch, unless a write is under way: a large job alone, else up to maxGroup events. */
  #flush(): void {
    const first = this.#ready[0]
    if (this.#writing || first === undefined) return
    let take = 1
    let count = first.events.length
    for (const job of first.batch === null ? this.#ready.slice(1) : []) {
      if (job.batch !== null || count + job.events.length > this.#maxGroup) break
      take++
      count += job.events.length
    }
    const jobs = this.#ready.splice(0, take)
    const batch = first.batch ?? this.#groupBatch(jobs)
    let head = this.#durableHead
    for (const job of jobs) {
      const last = job.events.at(-1)
      if (last !== undefined) head = { node: this.node, seq: last.event.seq, cid: last.cid }
    }
    if (head !== null && head !== this.#durableHead)
      batch.put(this.node, `${head.seq} ${head.cid}` as never, { sublevel: this.#heads as never })
    this.#writing = true
    batch.write({ sync: this.#sync }).then(
      () => this.#written(jobs, head),
      (err: unknown) => this.#writeFailed(jobs, batch, err),
    )
  }

  #groupBatch(jobs: Job[]): ChainedBatch {
    const batch = this.#db.batch()
    // Extra writes first: a block this group both releases and links again (an ingest of the same batch) stays.
    for (const job of jobs) putExtras(batch, job.pending.extraOps)
    for (const job of jobs) {
      for (const op of job.ops) batch.put(op.key as string, op.value as Uint8Array, { sublevel: op.sublevel as never })
    }
    return batch
  }

  #written(jobs: Job[], head: Head | null): void {
    this.#wrote = true
    this.#durableHead = head
    this.#writing = false
    for (const job of jobs) {
      job.settled = true
      job.pending.resolve(job.events)
    }
    // Callers just answered append again in this turn: gather them into one pump rather than start with the first.
    if (jobs.length > 1) this.#schedulePump()
    this.#flush()
  }

  async #writeFailed(jobs: Job[], batch: { close(): Promise<void> }, err: unknown): Promise<void> {
    // Everything signed after this batch chains onto events that were never written.
    this.#epoch++
    this.#workerChained = false
    this.#head = this.#durableHead
    this.#tip = this.#durableHead
    this.#fail(jobs, isVsdbError(err) ? err : new VsdbError('WRITE_FAILED', `write failed: ${(err as Error).message}`, {}, { cause: err }))
    this.#fail(this.#ready.splice(0), earlierWriteFailed())
    await batch.close().catch(() => {})
    this.#writing = false
    this.#flush()
    if (this.#queue.length > 0) this.#schedulePump()
  }

  #fail(jobs: Job[], err: unknown): void {
    for (const job of jobs) {
      if (job.settled) continue
      job.settled = true
      job.batch?.close().catch(() => {})
      job.pending.reject(err)
    }
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
    return this.#enqueue(own.map(prepare), ops)
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

  close(): Promise<void> {
    this.#closing ??= this.#shutdown()
    return this.#closing
  }

  /** New appends are refused from the first moment; those already taken are written (or fail) before the store closes. */
  async #shutdown(): Promise<void> {
    this.#closed = true
    while (this.#busy()) await new Promise((r) => setTimeout(r, 1))
    await this.#chain.close()
    if (this.#heliaNode !== null) await (await this.#heliaNode).stop()
    // LevelDB keeps recent writes in its memtable and replays its write-ahead log into a table at the next open:
    // after an ingest that is most of a restart. Flushed here (a compaction of an empty range flushes the memtable
    // first), the next open starts at once.
    if (this.#wrote) await this.#db.compactRange('~', '~~')
    await this.#db.close()
    await rm(this.paths.owner, { force: true })
  }
}

function putExtras(batch: ChainedBatch, extraOps: Op[] | undefined): void {
  for (const op of extraOps ?? []) {
    if (op.value === undefined) batch.del(op.key as string, { sublevel: op.sublevel as never })
    else batch.put(op.key as string, op.value as Uint8Array, { sublevel: op.sublevel as never })
  }
}

function earlierWriteFailed(): VsdbError {
  return new VsdbError('WRITE_FAILED', 'an earlier write in the same pipeline failed; nothing of this batch was written')
}

function prepare(input: AppendInput): Prepared {
  const ts = input.ts ?? Date.now()
  // The envelope's own rule (a safe integer of epoch ms), checked before anything is signed or written.
  if (!envelopeSchema.shape.ts.safeParse(ts).success) {
    throw new VsdbError('INVALID_EVENT', `${input.type} event: ts: expected a whole number of epoch milliseconds, got ${ts}`, {
      field: 'ts',
    })
  }
  for (const [i, block] of (input.blocks ?? []).entries()) checkBlock(input.type, block, i)
  return { input: { ...input, payload: validatePayload(input.type, input.payload) }, ts }
}

/** A linked block must be bytes under the sha-256 CID of those bytes: it is written as it is, and pinned. */
function checkBlock(type: EventType, block: Block, i: number): void {
  const field = `blocks.${i}`
  const cid = CIDClass.asCID(block?.cid)
  if (cid === null || !(block.bytes instanceof Uint8Array)) {
    throw new VsdbError('INVALID_EVENT', `${type} event: ${field}: expected {cid: CID, bytes: Uint8Array}`, { field })
  }
  if (!blockMatchesCid(block)) {
    throw new VsdbError('INVALID_EVENT', `${type} event: ${field}: the bytes do not hash to ${cid}`, { field, cid: cid.toString() })
  }
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
  return db
}

/** Who holds the store, for the message another process gets (IN_USE). */
async function recordOwner(paths: DataDirPaths): Promise<void> {
  await writeFile(paths.owner, JSON.stringify({ pid: process.pid, since: new Date().toISOString() }))
}

export async function openLog(options: OpenLogOptions): Promise<Log> {
  const paths = dataDirPaths(options.dir)
  // In a data directory (one with a config: no store is made anywhere else), the store opens on libuv's threads
  // while the config and the key are read and checked here.
  const opening = existsSync(paths.config) ? openDatabase(paths) : null
  opening?.catch(() => {})
  const reading = readKeyFile(paths.key)
  reading.catch(() => {})
  let config: NodeConfig
  let signer: Signer
  try {
    config = parseConfig(paths, await readConfigText(paths))
    signer = await reading
    if (signer.node !== config.node) {
      throw new VsdbError('INVALID_INPUT', `node key in ${paths.key} does not match config node ${config.node}`, { field: 'node' })
    }
  } catch (err) {
    await opening?.then(
      (db) => db.close(),
      () => {},
    )
    throw err
  }
  const db = await (opening ?? openDatabase(paths))
  const log = new LevelLog(paths, config, signer, db, options)
  try {
    await Promise.all([recordOwner(paths), log.start()])
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
  await recordOwner(paths)
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

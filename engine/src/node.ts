import { join } from 'node:path'
import * as dagCbor from '@ipld/dag-cbor'
import { type AppendInput, isVsdbError, type Log, openLog, type PayloadOf, type StoredEvent, VsdbError } from '@vsdb/log'
import {
  createSegmentIndex,
  createViews,
  eventsAfter,
  loadCheckpoint,
  loadSegmentIndex,
  type SegmentFilter,
  type SegmentFilters,
  type SegmentHit,
  type SegmentIndex,
  type SegmentRecord,
  stateDigest,
  type Views,
  writeCheckpoint,
} from '@vsdb/projections'
import { CID } from 'multiformats/cid'
import { decodeBatchBlock, type IngestOptions, type IngestSummary, ingestFiles, ingestRows } from './ingest.ts'
import { parseObservationRows } from './observations/index.ts'
import type { Observation } from './observations/types.ts'
import { DEFAULT_SEGMENTER_CONFIG, EntitySegmenter, type SealedSegment, type SegmenterConfig, type SegmenterParts } from './segmenter.ts'

/** Makes the per-entity parts (model, codec, regime labeller) and decodes what the codec wrote. */
export interface EngineParts {
  forEntity(entity: string, dim: number): SegmenterParts
  decode(codec: string, bytes: Uint8Array): { ts: number[]; vectors: number[][] }
}

export interface NodeOptions {
  dir: string
  segmenter?: Partial<SegmenterConfig>
  parts: EngineParts
}

export interface ReadOptions {
  entity: string
  from?: number
  to?: number
}

export interface QueryOptions extends SegmentFilters {
  /** A query vector, or `like`: the CID of a segment whose centroid is the query (it is left out of the hits). */
  vector?: number[]
  like?: string
  k: number
}

export type EventListener = (event: StoredEvent, segment: SegmentRecord | undefined) => void

export interface VsdbNode {
  readonly log: Log
  readonly views: Views
  readonly index: SegmentIndex
  /** k nearest segments by centroid, with the filters applied inside the HNSW search. */
  query(options: QueryOptions): SegmentHit[]
  ingest(files: string[], options?: Omit<IngestOptions, 'stage'>): Promise<IngestSummary>
  /**
   * Ingests observations given in memory (an API batch): each checked as a JSONL line is, all of them before
   * anything is written, then appended as one atomic batch. Ingests run one at a time, in call order.
   */
  ingestRows(rows: readonly unknown[], options?: { entity?: string; now?: number }): Promise<IngestSummary>
  /** Told every event the views fold, in fold order, with the segment record when it is one. Returns the unsubscribe. */
  onEvent(listener: EventListener): () => void
  /** Folds events appended or imported since the views last looked (e.g. after `importCar`). */
  refresh(): Promise<number>
  segments(filter?: SegmentFilter): SegmentRecord[]
  /** Decoded observations of an entity: its sealed segments (within their error bound) and its open segment. */
  read(options: ReadOptions): Promise<Observation[]>
  digest(): { events: number; digest: string }
  /** Rebuilds the views from the log alone (no checkpoint), optionally writing them as a checkpoint into `into`. */
  replay(options?: { into?: string }): Promise<{ events: number; digest: string }>
  /** Writes a checkpoint of the views now (also done on close when anything changed). */
  checkpoint(): Promise<void>
  /** How the views were loaded: from a checkpoint plus a tail, or by a full replay (and why). */
  readonly loadedFrom: { checkpoint: boolean; tail: number; reason?: string }
  close(): Promise<void>
}

class EngineNode implements VsdbNode {
  readonly log: Log
  views: Views
  index: SegmentIndex = createSegmentIndex()
  loadedFrom: VsdbNode['loadedFrom'] = { checkpoint: false, tail: 0 }
  #checkpointedEvents = -1
  readonly #config: SegmenterConfig
  readonly #parts: EngineParts
  #segmenters: Map<string, EntitySegmenter> | null = null
  readonly #listeners = new Set<EventListener>()
  /** The tail of the ingest queue: the segmenters see one ingest at a time, in chain order. */
  #ingesting: Promise<unknown> = Promise.resolve()

  constructor(log: Log, views: Views, config: SegmenterConfig, parts: EngineParts) {
    this.log = log
    this.views = views
    this.#config = config
    this.#parts = parts
  }

  async refresh(): Promise<number> {
    let n = 0
    for await (const stored of eventsAfter(this.log, this.views.position)) {
      this.#fold(stored)
      n++
    }
    return n
  }

  #fold(stored: StoredEvent): void {
    const segment = this.views.apply(stored)
    if (segment !== undefined && !this.index.has(segment.cid)) this.index.add(segment)
    for (const listener of this.#listeners) {
      try {
        listener(stored, segment)
      } catch {
        // A listener's failure is its own: folding goes on.
      }
    }
  }

  onEvent(listener: EventListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** How far (in arrival order) each entity's observations are sealed in segments this node wrote. */
  #sealedThrough(): Map<string, number> {
    const through = new Map<string, number>()
    for (const s of this.views.segments()) {
      if (s.node === this.log.node && s.through > (through.get(s.entity) ?? 0)) through.set(s.entity, s.through)
    }
    return through
  }

  /** This node's ingest batches in log order, decoded: the raw stream each segmenter is rebuilt from. */
  async *#ownBatches(): AsyncGenerator<{ entity: string; ts: number[]; vectors: number[][] }> {
    for await (const { node, cid } of this.log.byType('ingest')) {
      if (node !== this.log.node) continue
      const { event } = await this.log.getEvent(cid)
      const payload = event.payload as PayloadOf<'ingest'>
      yield decodeBatchBlock(dagCbor.decode(await this.log.getBlock(payload.batch)))
    }
  }

  /**
   * The open segments, rebuilt from the log: every batch this node ingested is pushed through its entity's
   * segmenter again (the model learns the same way twice: it is deterministic), and segments sealed up to
   * the `through` a segment event already records are dropped, not appended again.
   */
  async #segmentersReady(): Promise<{ segmenters: Map<string, EntitySegmenter>; catchUp: AppendInput[] }> {
    const catchUp: AppendInput[] = []
    if (this.#segmenters !== null) return { segmenters: this.#segmenters, catchUp }
    const segmenters = new Map<string, EntitySegmenter>()
    const through = this.#sealedThrough()
    for await (const batch of this.#ownBatches()) {
      const segmenter = this.#segmenter(segmenters, batch.entity, batch.vectors[0]?.length ?? 1)
      for (let i = 0; i < batch.ts.length; i++) {
        for (const sealed of segmenter.push({ entity: batch.entity, ts: batch.ts[i] as number, vector: batch.vectors[i] as number[] })) {
          if (sealed.payload.through > (through.get(batch.entity) ?? 0))
            catchUp.push({ type: 'segment', payload: sealed.payload, blocks: [sealed.block] })
        }
      }
    }
    this.#segmenters = segmenters
    return { segmenters, catchUp }
  }

  #segmenter(segmenters: Map<string, EntitySegmenter>, entity: string, dim: number): EntitySegmenter {
    let segmenter = segmenters.get(entity)
    if (segmenter === undefined) {
      segmenter = new EntitySegmenter(entity, dim, this.#config, this.#parts.forEntity(entity, dim))
      segmenters.set(entity, segmenter)
    }
    return segmenter
  }

  ingest(files: string[], options: Omit<IngestOptions, 'stage'> = {}): Promise<IngestSummary> {
    return this.#queued(async (stage, onCommitted, dims) => await ingestFiles(this.log, files, { ...options, stage, onCommitted }, dims))
  }

  ingestRows(values: readonly unknown[], options: { entity?: string; now?: number } = {}): Promise<IngestSummary> {
    return this.#queued(async (stage, onCommitted, dims) => {
      const rows = parseObservationRows(values, { ...options, knownDimensions: dims })
      return await ingestRows(this.log, rows, { stage, onCommitted })
    })
  }

  /** Runs one ingest after those before it, with the segmenters ready and the views folded up to our head. */
  #queued(
    run: (
      stage: NonNullable<IngestOptions['stage']>,
      onCommitted: NonNullable<IngestOptions['onCommitted']>,
      dims: Map<string, number>,
    ) => Promise<IngestSummary>,
  ): Promise<IngestSummary> {
    const next = this.#ingesting.then(async () => {
      const { segmenters, catchUp } = await this.#segmentersReady()
      if (catchUp.length > 0) await this.log.appendBatch(catchUp)
      // Fold everything up to our head now: the ingest's own events are folded as they commit, after it.
      await this.refresh()
      const dims = new Map(this.views.entities().map((e) => [e.entity, e.dim]))
      const stage = (entity: string, rows: Observation[]): AppendInput[] => {
        const segmenter = this.#segmenter(segmenters, entity, (rows[0] as Observation).vector.length)
        const sealed: SealedSegment[] = []
        for (const row of rows) segmenter.push(row, sealed)
        return sealed.map((s) => ({ type: 'segment' as const, payload: s.payload, blocks: [s.block] }))
      }
      // Our own events in chain order, each exactly once: the views' position moves past them.
      const onCommitted = (events: StoredEvent[]) => {
        for (const stored of events) this.#fold(stored)
      }
      try {
        return await run(stage, onCommitted, dims)
      } catch (err) {
        // The segmenters may have seen rows that were never written: rebuild them from the log next time.
        this.#segmenters = null
        throw err
      } finally {
        await this.refresh()
      }
    })
    this.#ingesting = next.catch(() => {})
    return next
  }

  segments(filter: SegmentFilter = {}): SegmentRecord[] {
    return this.views.segments(filter)
  }

  async read({ entity, from, to }: ReadOptions): Promise<Observation[]> {
    if (this.views.entity(entity) === undefined) throw new VsdbError('NOT_FOUND', `unknown entity ${entity}`, { field: 'entity' })
    const out: Observation[] = []
    const inRange = (ts: number) => (from === undefined || ts >= from) && (to === undefined || ts <= to)
    for (const s of this.views.segments({ entity, from, to })) {
      const { ts, vectors } = this.#parts.decode(s.codec, await this.log.getBlock(CID.parse(s.data)))
      for (let i = 0; i < ts.length; i++)
        if (inRange(ts[i] as number)) out.push({ entity, ts: ts[i] as number, vector: vectors[i] as number[] })
    }
    // Observations not sealed yet are read from their ingest batches (arrival order past the last `through`).
    const sealed = this.#sealedThrough().get(entity) ?? 0
    let seen = 0
    for await (const batch of this.#ownBatches()) {
      if (batch.entity !== entity) continue
      for (let i = 0; i < batch.ts.length; i++, seen++) {
        const ts = batch.ts[i] as number
        if (seen >= sealed && inRange(ts)) out.push({ entity, ts, vector: batch.vectors[i] as number[] })
      }
    }
    return out.sort((a, b) => a.ts - b.ts)
  }

  digest(): { events: number; digest: string } {
    const state = this.views.state()
    return { events: state.events, digest: stateDigest(state) }
  }

  get #checkpointRoot(): string {
    return join(this.log.dir, 'projections')
  }

  /** Loads the views from the checkpoint when it holds up, then folds the log's tail; else replays from zero. */
  async load(): Promise<void> {
    const loaded = await loadCheckpoint(this.#checkpointRoot, this.log)
    let reason = 'rejected' in loaded ? loaded.rejected : undefined
    if (!('rejected' in loaded)) {
      try {
        this.index = await loadSegmentIndex(join(loaded.dir, 'index'))
        if (this.index.size !== loaded.state.segments.length)
          throw new Error(`the index holds ${this.index.size} segments, the views ${loaded.state.segments.length}`)
        this.views = createViews(loaded.state)
        this.#checkpointedEvents = loaded.state.events
        this.loadedFrom = { checkpoint: true, tail: await this.refresh() }
        return
      } catch (err) {
        reason = `checkpoint index unusable: ${(err as Error).message}`
      }
    }
    this.views = createViews()
    this.index = createSegmentIndex()
    this.loadedFrom = { checkpoint: false, tail: await this.refresh(), reason }
  }

  async replay(options: { into?: string } = {}): Promise<{ events: number; digest: string }> {
    const views = createViews()
    const index = createSegmentIndex()
    for await (const stored of eventsAfter(this.log)) {
      const segment = views.apply(stored)
      if (segment !== undefined) index.add(segment)
    }
    const state = views.state()
    if (options.into !== undefined) {
      await writeCheckpoint(options.into, this.log, state, {}, async (dir) => ({
        'index/': (await index.save(join(dir, 'index'))).manifestSha256,
      }))
    }
    return { events: state.events, digest: stateDigest(state) }
  }

  async checkpoint(): Promise<void> {
    const state = this.views.state()
    await writeCheckpoint(this.#checkpointRoot, this.log, state, {}, async (dir) => {
      const saved = await this.index.save(join(dir, 'index'))
      return { 'index/': saved.manifestSha256 }
    })
    this.#checkpointedEvents = state.events
  }

  query({ vector, like, k, ...filters }: QueryOptions): SegmentHit[] {
    if ((vector === undefined) === (like === undefined)) {
      throw new VsdbError('INVALID_INPUT', 'give a query vector or a segment to look like (--vector or --like), not both', {
        field: 'vector',
      })
    }
    if (filters.entity !== undefined && this.views.entity(filters.entity) === undefined) {
      throw new VsdbError('NOT_FOUND', `unknown entity ${filters.entity}`, { field: 'entity' })
    }
    if (like !== undefined) {
      if (!this.index.has(like)) throw new VsdbError('NOT_FOUND', `no segment ${like} in the index`, { field: 'like', cid: like })
      return this.index.searchLike(like, k, filters)
    }
    return this.index.search({ vector: vector as number[], k, ...filters })
  }

  async close(): Promise<void> {
    try {
      if (this.views.counts().events !== this.#checkpointedEvents) await this.checkpoint()
    } finally {
      await this.log.close()
    }
  }
}

/** Opens a node: its log, and the views (from the last checkpoint and the log's tail, or folded from zero). */
export async function openNode(options: NodeOptions): Promise<VsdbNode> {
  const log = await openLog({ dir: options.dir })
  try {
    const node = new EngineNode(log, createViews(), { ...DEFAULT_SEGMENTER_CONFIG, ...options.segmenter }, options.parts)
    await node.load()
    return node
  } catch (err) {
    await log.close()
    throw isVsdbError(err) ? err : new VsdbError('INVALID_EVENT', `cannot fold the log: ${(err as Error).message}`, {}, { cause: err })
  }
}

import { join, resolve } from 'node:path'
import * as dagCbor from '@ipld/dag-cbor'
import {
  type AppendInput,
  encodeBlock,
  isVsdbError,
  type Log,
  MAX_RELEASED_PER_EVENT,
  openLog,
  RETENTION_POLICIES,
  type RetentionPolicy,
  type StoredEvent,
  VsdbError,
} from '@vsdb/log'
import {
  checkPosition,
  createSegmentIndex,
  createViews,
  eventsAfter,
  type LoadedCheckpoint,
  loadSegmentIndex,
  type OpenedCheckpoint,
  openCheckpoint,
  type Rejected,
  type RetentionView,
  readCheckpointFiles,
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
import { decodeBatchBlock, type IngestOptions, type IngestSummary, ingestFiles, ingestRowGroups } from './ingest.ts'
import {
  type ObservationColumns,
  type ObservationRowsOptions,
  parseObservationColumns,
  parseObservationRows,
} from './observations/index.ts'
import type { Observation } from './observations/types.ts'
import { packResumeState, parseResumeState, RawLedger, type ResumeState } from './retention.ts'
import {
  DEFAULT_SEGMENTER_CONFIG,
  EntitySegmenter,
  type SealedSegment,
  type SegmenterConfig,
  type SegmenterParts,
  type SegmenterState,
} from './segmenter.ts'

/** One entity's parts; `snapshot` (optional) is the model's whole state as plain data, to resume it from. */
export interface EntityParts extends SegmenterParts {
  snapshot?(): unknown
}

/** Makes the per-entity parts (model, codec, regime labeller) and decodes what the codec wrote. */
export interface EngineParts {
  /** `resume`: what `snapshot()` of such parts returned, to continue from exactly there (absent: a fresh model). */
  forEntity(entity: string, dim: number, resume?: unknown): EntityParts
  decode(codec: string, bytes: Uint8Array): { ts: number[]; vectors: number[][] }
}

/** What a release pass did: raw batches released by policy and their bytes (`error` when it could not run). */
export interface ReleaseSummary {
  batches: number
  bytes: number
  error?: string
}

/** A call of ingestRows waiting in its group. */
interface RowsCall {
  /** The call's observations, checked against the dimensions known so far (rows or columns). */
  parse: (options: ObservationRowsOptions) => Observation[]
  options: { entity?: string; now?: number }
  resolve: (summary: IngestSummary & { released?: ReleaseSummary }) => void
  reject: (err: unknown) => void
}

/** One entity's segmenter with its parts, and where it stood at its last seal (what a release records to resume from). */
interface EntityRun {
  segmenter: EntitySegmenter
  parts: EntityParts
  sealPoint: { through: number; segmenter: SegmenterState; parts: unknown } | null
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

export interface OpenAlert {
  entity: string
  ts: number
  score: number
}

/** An alert as soon as the node knows it: from an open segment (`segment: null`) or from a segment event. */
export interface LiveAlert extends OpenAlert {
  segment: string | null
}

export type EventListener = (event: StoredEvent, segment: SegmentRecord | undefined) => void

export interface VsdbNode {
  readonly log: Log
  readonly views: Views
  readonly index: SegmentIndex
  /** k nearest segments by centroid, with the filters applied inside the HNSW search. */
  query(options: QueryOptions): SegmentHit[]
  /**
   * Ingests files. Under the `drop-after-seal` raw retention policy, the batches whose observations are now all
   * in sealed segments are released after the ingest commits (`released` in the summary).
   */
  ingest(files: string[], options?: Omit<IngestOptions, 'stage'>): Promise<IngestSummary & { released?: ReleaseSummary }>
  /**
   * Ingests observations given in memory (an API batch): each checked as a JSONL line is, all of them before
   * anything is written, then appended as one atomic batch. Ingests run one at a time, in call order; the calls
   * made while one runs share the next write (group commit: one batch, each call answered with its own summary, a
   * call with a bad row refused alone), so many small concurrent batches do not each wait for a write of their own.
   */
  ingestRows(rows: readonly unknown[], options?: { entity?: string; now?: number }): Promise<IngestSummary & { released?: ReleaseSummary }>
  /**
   * ingestRows for observations given as columns (what a binary frame carries): the same checks, the same errors
   * naming `observations.N`, the same group commit, without a row object per observation to make and check first.
   * The arrays are read when the call's turn comes, not when it is made: leave them as they are until it settles.
   */
  ingestColumns(
    columns: ObservationColumns,
    options?: { entity?: string; now?: number },
  ): Promise<IngestSummary & { released?: ReleaseSummary }>
  /** Told every event the views fold, in fold order, with the segment record when it is one. Returns the unsubscribe. */
  onEvent(listener: EventListener): () => void
  /**
   * Alerts not in any segment event yet: the observations of each entity's open segment (of this node's own
   * stream) scoring at or above the alert threshold, in time order. They move into a segment's `alerts` when it seals.
   */
  openAlerts(entity?: string): Promise<OpenAlert[]>
  /**
   * Told each alert once, as soon as it is known: an observation of this node's stream right after the ingest
   * that scored it (its segment not sealed yet), or one from a segment event whose alert was not told before
   * (e.g. imported from another node). Returns the unsubscribe.
   */
  onAlert(listener: (alert: LiveAlert) => void): () => void
  /** Folds events appended or imported since the views last looked (e.g. after `importCar`). */
  refresh(): Promise<number>
  segments(filter?: SegmentFilter): SegmentRecord[]
  /**
   * Decoded observations of an entity: its sealed segments (within their error bound) and its open segment. Raw
   * batches released by policy are never needed: their observations are all in sealed segments.
   */
  read(options: ReadOptions): Promise<Observation[]>
  /** This node's raw retention: its policy and what it released (from its `retention` events). */
  retention(): RetentionView
  /**
   * Sets the raw retention policy: a `retention` event when it changes (none when it is already the policy). Under
   * `drop-after-seal` the batches already sealed are released at once. Runs in the ingest queue.
   */
  setRetention(policy: RetentionPolicy): Promise<{ policy: RetentionPolicy; changed: boolean; released?: ReleaseSummary }>
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
  #runs: Map<string, EntityRun> | null = null
  /** This node's raw batches and retention (built on first need, inside the ingest queue; then kept by #fold). */
  #ledger: RawLedger | null = null
  /** Events folded while the ledger is being built: applied to it once the scan is done. */
  #ledgerBacklog: StoredEvent[] | null = null
  readonly #listeners = new Set<EventListener>()
  readonly #alertListeners = new Set<(alert: LiveAlert) => void>()
  /** Per entity, the times of open-segment alerts already told (forgotten as their segment seals). */
  readonly #toldOpen = new Map<string, Set<number>>()
  /** The tail of the ingest queue: the segmenters see one ingest at a time, in chain order. */
  #ingesting: Promise<unknown> = Promise.resolve()
  /** ingestRows calls queued as one write that has not started: later calls join it (see ingestRows). */
  #openRows: RowsCall[] | null = null

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
    this.#ledger?.apply(stored)
    this.#ledgerBacklog?.push(stored)
    const segment = this.views.apply(stored)
    if (segment !== undefined && !this.index.has(segment.cid)) this.index.add(segment)
    if (segment !== undefined && this.#alertListeners.size > 0) this.#tellSegmentAlerts(segment)
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

  onAlert(listener: (alert: LiveAlert) => void): () => void {
    this.#alertListeners.add(listener)
    return () => this.#alertListeners.delete(listener)
  }

  #tellAlert(alert: LiveAlert): void {
    for (const listener of this.#alertListeners) {
      try {
        listener(alert)
      } catch {
        // A listener's failure is its own.
      }
    }
  }

  /** The open segments' alerts not told yet, of the entities an ingest touched. */
  #tellOpenAlerts(runs: Map<string, EntityRun>, entities: Set<string>): void {
    for (const entity of entities) {
      const run = runs.get(entity)
      if (run === undefined) continue
      const { ts, scores } = run.segmenter.state()
      let told = this.#toldOpen.get(entity)
      for (let i = 0; i < ts.length; i++) {
        const score = scores[i] as number
        if (score < this.#config.alertThreshold) continue
        told ??= new Set()
        this.#toldOpen.set(entity, told)
        if (told.has(ts[i] as number)) continue
        told.add(ts[i] as number)
        this.#tellAlert({ entity, ts: ts[i] as number, score, segment: null })
      }
    }
  }

  /** A segment's alerts not told while its observations were open. */
  #tellSegmentAlerts(segment: SegmentRecord): void {
    const told = this.#toldOpen.get(segment.entity)
    for (const alert of segment.alerts) {
      if (told?.delete(alert.ts) === true) continue
      this.#tellAlert({ entity: segment.entity, ts: alert.ts, score: alert.score, segment: segment.cid })
    }
  }

  /** How far (in arrival order) each entity's observations (or one entity's) are sealed in segments this node wrote. */
  #sealedThrough(entity?: string): Map<string, number> {
    const through = new Map<string, number>()
    for (const s of this.views.segments(entity === undefined ? {} : { entity })) {
      if (s.node === this.log.node && s.through > (through.get(s.entity) ?? 0)) through.set(s.entity, s.through)
    }
    return through
  }

  /** Runs a task after every ingest (and retention change) queued before it. */
  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    // Calls of ingestRows made from now on go after this task, not into a group queued before it.
    this.#openRows = null
    const next = this.#ingesting.then(task)
    this.#ingesting = next.catch(() => {})
    return next
  }

  /**
   * The raw ledger, built from the type index on first need. Call it inside the ingest queue (no own ingest or
   * retention event is then being appended): the scan and the folds that follow it meet without a gap.
   */
  async #ledgerInQueue(): Promise<RawLedger> {
    if (this.#ledger !== null) return this.#ledger
    const ledger = new RawLedger(this.log.node)
    this.#ledgerBacklog = []
    try {
      // Our own ingest and retention events in seq order (two type indexes, merged). Other nodes' ingest events
      // matter only to a release (their batch blocks are never released here): read then, see #releaseSealed.
      const own: { seq: number; cid: CID }[] = []
      for (const type of ['ingest', 'retention'] as const) {
        for await (const { node, seq, cid } of this.log.byType(type)) if (node === this.log.node) own.push({ seq, cid })
      }
      own.sort((a, b) => a.seq - b.seq)
      for (const { cid } of own) ledger.apply(await this.log.getEvent(cid))
      for (const stored of this.#ledgerBacklog) ledger.apply(stored)
    } finally {
      this.#ledgerBacklog = null
    }
    this.#ledger = ledger
    return ledger
  }

  /** Pushes one observation through its entity's segmenter; after a seal, notes where the segmenter stands. */
  #push(run: EntityRun, row: Observation, sealed: SealedSegment[]): void {
    const before = sealed.length
    run.segmenter.push(row, sealed)
    if (sealed.length > before) {
      const last = sealed[sealed.length - 1] as SealedSegment
      run.sealPoint = { through: last.payload.through, segmenter: run.segmenter.state(), parts: run.parts.snapshot?.() ?? null }
    }
  }

  /**
   * The open segments, rebuilt from the log. Each entity starts from its last resume state when a release recorded
   * one (the segmenter, and the model when the parts take snapshots: exactly where it stood at that seal), else from
   * nothing; then every observation after that point is pushed again from the held batches (the model learns the
   * same way twice: it is deterministic). Segments sealed up to the `through` a segment event already records are
   * dropped, not appended again. With parts that take no snapshot, a resumed entity's model learns only from the
   * observations after the resume point (the released ones are gone): its later scores and regime changes may
   * differ from a node that kept them. The default parts take snapshots.
   */
  async #segmentersReady(): Promise<{ runs: Map<string, EntityRun>; catchUp: AppendInput[] }> {
    const catchUp: AppendInput[] = []
    if (this.#runs !== null) return { runs: this.#runs, catchUp }
    const ledger = await this.#ledgerInQueue()
    const runs = new Map<string, EntityRun>()
    const through = this.#sealedThrough()
    for (const entity of ledger.entities()) {
      const dim = ledger.dim(entity) as number
      const resume = ledger.resume(entity)
      let run: EntityRun
      if (resume === undefined) {
        run = this.#newRun(entity, dim)
      } else {
        const state: ResumeState = parseResumeState(dagCbor.decode(await this.log.getBlock(resume.state)), resume.state, entity)
        const parts = this.#parts.forEntity(entity, dim, state.parts ?? undefined)
        run = {
          segmenter: new EntitySegmenter(entity, dim, this.#config, parts, state.segmenter),
          parts,
          sealPoint: { through: state.through, segmenter: state.segmenter, parts: state.parts },
        }
      }
      let next = run.segmenter.seen
      for (const batch of ledger.held(entity)) {
        if (batch.end <= next) continue
        if (batch.start > next) break // a gap: reported below
        const { ts, vectors } = decodeBatchBlock(dagCbor.decode(await this.log.getBlock(batch.batch)))
        const sealed: SealedSegment[] = []
        for (let i = next - batch.start; i < ts.length; i++) {
          this.#push(run, { entity, ts: ts[i] as number, vector: vectors[i] as number[] }, sealed)
        }
        next = batch.end
        for (const s of sealed) {
          if (s.payload.through > (through.get(entity) ?? 0)) catchUp.push({ type: 'segment', payload: s.payload, blocks: [s.block] })
        }
      }
      if (next !== ledger.arrived(entity)) {
        throw new VsdbError(
          'MISSING_BLOCK',
          `cannot rebuild the open segment of entity ${entity}: its observations from ${next} on are neither in a held batch nor in a resume state`,
          { field: 'entity' },
        )
      }
      runs.set(entity, run)
    }
    this.#runs = runs
    return { runs, catchUp }
  }

  #newRun(entity: string, dim: number): EntityRun {
    const parts = this.#parts.forEntity(entity, dim)
    return { segmenter: new EntitySegmenter(entity, dim, this.#config, parts), parts, sealPoint: null }
  }

  #run(runs: Map<string, EntityRun>, entity: string, dim: number): EntityRun {
    let run = runs.get(entity)
    if (run === undefined) {
      run = this.#newRun(entity, dim)
      runs.set(entity, run)
    }
    return run
  }

  /**
   * Raw retention under `drop-after-seal`: releases every held batch of this node whose observations are all in
   * sealed segments (see RawLedger.releasable). Per entity, `retention` events naming the ingest events (at most
   * MAX_RELEASED_PER_EVENT each) and linking a resume state taken at the entity's last seal; the log deletes the
   * batch blocks and their pins in the same atomic write as the events, so no crash leaves one without the other.
   * Runs in the ingest queue, with the segmenters ready. A failure is reported, not thrown: the ingest before it is
   * committed, and the next pass releases what this one could not.
   */
  async #releaseSealed(): Promise<ReleaseSummary | undefined> {
    if (this.views.retention(this.log.node).policy !== 'drop-after-seal') return undefined
    const summary: ReleaseSummary = { batches: 0, bytes: 0 }
    try {
      const ledger = await this.#ledgerInQueue()
      if (!ledger.foreignComplete) {
        for await (const { node, cid } of this.log.byType('ingest')) if (node !== this.log.node) ledger.apply(await this.log.getEvent(cid))
        ledger.foreignComplete = true
      }
      const runs = this.#runs ?? new Map<string, EntityRun>()
      const plan = ledger.releasable((entity) => runs.get(entity)?.sealPoint?.through ?? 0)
      const inputs: AppendInput[] = []
      for (const [entity, batches] of plan) {
        const point = (runs.get(entity) as EntityRun).sealPoint as NonNullable<EntityRun['sealPoint']>
        // A batch block that is missing (not released) is left alone: the audit names it.
        const held = await this.log.blockstore.getRawMany(batches.map((b) => b.batch))
        const present = batches.filter((_, i) => held[i] !== undefined)
        const size = new Map(batches.map((b, i) => [b.batch.toString(), held[i]?.byteLength ?? 0]))
        if (present.length === 0) continue
        const resume: ResumeState = { v: 1, entity, through: point.through, segmenter: point.segmenter, parts: point.parts }
        const state = encodeBlock(packResumeState(resume))
        for (let start = 0; start < present.length; start += MAX_RELEASED_PER_EVENT) {
          const chunk = present.slice(start, start + MAX_RELEASED_PER_EVENT)
          const last = start + MAX_RELEASED_PER_EVENT >= present.length
          const unique = new Set(chunk.map((b) => b.batch.toString()))
          const bytes = [...unique].reduce((sum, cid) => sum + (size.get(cid) ?? 0), 0)
          inputs.push({
            type: 'retention',
            payload: {
              policy: 'drop-after-seal',
              released: chunk.map((b) => CID.parse(b.event)),
              bytes,
              resume: last ? { entity, through: point.through, state: state.cid } : null,
            },
            blocks: last ? [state] : [],
          })
          summary.batches += chunk.length
          summary.bytes += bytes
        }
      }
      if (inputs.length === 0) return summary
      for (const stored of await this.log.appendBatch(inputs)) this.#fold(stored)
      return summary
    } catch (err) {
      return { batches: 0, bytes: 0, error: (err as Error).message }
    }
  }

  ingest(files: string[], options: Omit<IngestOptions, 'stage'> = {}): Promise<IngestSummary & { released?: ReleaseSummary }> {
    return this.#queued(
      async (stage, onCommitted, dims) => await ingestFiles(this.log, files, { ...options, stage, onCommitted }, dims),
      (summary) => [summary],
    )
  }

  ingestRows(
    values: readonly unknown[],
    options: { entity?: string; now?: number } = {},
  ): Promise<IngestSummary & { released?: ReleaseSummary }> {
    return this.#ingestCall((checks) => parseObservationRows(values, checks), options)
  }

  ingestColumns(
    columns: ObservationColumns,
    options: { entity?: string; now?: number } = {},
  ): Promise<IngestSummary & { released?: ReleaseSummary }> {
    return this.#ingestCall((checks) => parseObservationColumns(columns, checks), options)
  }

  #ingestCall(
    parse: RowsCall['parse'],
    options: { entity?: string; now?: number },
  ): Promise<IngestSummary & { released?: ReleaseSummary }> {
    return new Promise((resolve, reject) => {
      const call: RowsCall = { parse, options, resolve, reject }
      if (this.#openRows !== null) {
        this.#openRows.push(call)
        return
      }
      const group = [call]
      this.#queued(
        async (stage, onCommitted, dims) => {
          if (this.#openRows === group) this.#openRows = null
          return await this.#ingestGroup(group, stage, onCommitted, dims)
        },
        (answers) => answers.map((a) => a.summary),
      ).then(
        (answers) => {
          for (const { call, summary } of answers) call.resolve(summary)
        },
        (err: unknown) => {
          // A failure before the group's run (the segmenters, the refresh) leaves it open: later calls must not join it.
          if (this.#openRows === group) this.#openRows = null
          for (const { reject } of group) reject(err)
        },
      )
      // Set after queueing it: #enqueue closes the open group, so that no call joins one queued before another task.
      this.#openRows = group
    })
  }

  /**
   * The calls of a group, as one write: each call's rows checked on their own (a bad call is refused alone, the
   * dimensions it would have introduced forgotten), the rest appended together, each answered with its own summary.
   * A call is checked against the dimensions the calls before it in the group introduce, as if they were written
   * first (should that write then fail, the refusal named an entity that does not exist after all).
   */
  async #ingestGroup(
    group: RowsCall[],
    stage: NonNullable<IngestOptions['stage']>,
    onCommitted: NonNullable<IngestOptions['onCommitted']>,
    dims: Map<string, number>,
  ): Promise<{ call: RowsCall; summary: IngestSummary & { released?: ReleaseSummary } }[]> {
    const accepted: { call: RowsCall; rows: Observation[] }[] = []
    for (const call of group) {
      const known = new Map(dims)
      try {
        accepted.push({ call, rows: call.parse({ ...call.options, knownDimensions: known }) })
      } catch (err) {
        call.reject(err)
        continue
      }
      for (const [entity, dim] of known) dims.set(entity, dim)
    }
    if (accepted.length === 0) return []
    const summaries = await ingestRowGroups(
      this.log,
      accepted.map((a) => a.rows),
      { stage, onCommitted },
    )
    return accepted.map(({ call }, i) => ({ call, summary: summaries[i] as IngestSummary }))
  }

  /**
   * Runs one ingest after those before it, with the segmenters ready and the views folded up to our head; then,
   * under `drop-after-seal`, releases what it sealed.
   */
  #queued<R>(
    run: (
      stage: NonNullable<IngestOptions['stage']>,
      onCommitted: NonNullable<IngestOptions['onCommitted']>,
      dims: Map<string, number>,
    ) => Promise<R>,
    /** The summaries in what `run` returns: each is told what the release after it did. */
    summariesOf: (result: R) => (IngestSummary & { released?: ReleaseSummary })[],
  ): Promise<R> {
    return this.#enqueue(async () => {
      const { runs, catchUp } = await this.#segmentersReady()
      if (catchUp.length > 0) await this.log.appendBatch(catchUp)
      // Fold everything up to our head now: the ingest's own events are folded as they commit, after it.
      await this.refresh()
      const dims = new Map(this.views.entities().map((e) => [e.entity, e.dim]))
      const touched = new Set<string>()
      const stage = (entity: string, rows: Observation[]): AppendInput[] => {
        touched.add(entity)
        const run = this.#run(runs, entity, (rows[0] as Observation).vector.length)
        const sealed: SealedSegment[] = []
        for (const row of rows) this.#push(run, row, sealed)
        return sealed.map((s) => ({ type: 'segment' as const, payload: s.payload, blocks: [s.block] }))
      }
      // Our own events in chain order, each exactly once: the views' position moves past them.
      const onCommitted = (events: StoredEvent[]) => {
        for (const stored of events) this.#fold(stored)
      }
      let result: R
      try {
        result = await run(stage, onCommitted, dims)
      } catch (err) {
        // The segmenters may have seen rows that were never written: rebuild them from the log next time.
        this.#runs = null
        throw err
      } finally {
        await this.refresh()
      }
      if (this.#alertListeners.size > 0) this.#tellOpenAlerts(runs, touched)
      const released = await this.#releaseSealed()
      if (released !== undefined) for (const summary of summariesOf(result)) summary.released = { ...released }
      return result
    })
  }

  retention(): RetentionView {
    return this.views.retention(this.log.node)
  }

  setRetention(policy: RetentionPolicy): Promise<{ policy: RetentionPolicy; changed: boolean; released?: ReleaseSummary }> {
    if (!(RETENTION_POLICIES as readonly string[]).includes(policy)) {
      return Promise.reject(
        new VsdbError('INVALID_INPUT', `raw retention policy: ${JSON.stringify(policy)} is not one of ${RETENTION_POLICIES.join(', ')}`, {
          field: 'policy',
        }),
      )
    }
    return this.#enqueue(async () => {
      await this.refresh()
      const changed = this.views.retention(this.log.node).policy !== policy
      if (changed) {
        const events = await this.log.appendBatch([{ type: 'retention', payload: { policy, released: [], bytes: 0, resume: null } }])
        for (const stored of events) this.#fold(stored)
      }
      if (policy !== 'drop-after-seal') return { policy, changed }
      const { catchUp } = await this.#segmentersReady()
      if (catchUp.length > 0) for (const stored of await this.log.appendBatch(catchUp)) this.#fold(stored)
      await this.refresh()
      return { policy, changed, released: await this.#releaseSealed() }
    })
  }

  segments(filter: SegmentFilter = {}): SegmentRecord[] {
    return this.views.segments(filter)
  }

  openAlerts(entity?: string): Promise<OpenAlert[]> {
    if (entity !== undefined && this.views.entity(entity) === undefined) {
      return Promise.reject(new VsdbError('NOT_FOUND', `unknown entity ${entity}`, { field: 'entity' }))
    }
    return this.#enqueue(async () => {
      const { runs, catchUp } = await this.#segmentersReady()
      if (catchUp.length > 0) for (const stored of await this.log.appendBatch(catchUp)) this.#fold(stored)
      const out: OpenAlert[] = []
      for (const [id, run] of runs) {
        if (entity !== undefined && id !== entity) continue
        const { ts, scores } = run.segmenter.state()
        for (let i = 0; i < ts.length; i++) {
          const score = scores[i] as number
          if (score >= this.#config.alertThreshold) out.push({ entity: id, ts: ts[i] as number, score })
        }
      }
      return out
    })
  }

  async read({ entity, from, to }: ReadOptions): Promise<Observation[]> {
    if (this.views.entity(entity) === undefined) throw new VsdbError('NOT_FOUND', `unknown entity ${entity}`, { field: 'entity' })
    const ledger = this.#ledger ?? (await this.#enqueue(() => this.#ledgerInQueue()))
    // A release running beside this read may drop a batch it was about to read, having sealed its rows: read again.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#readOnce(ledger, { entity, from, to })
      } catch (err) {
        if (attempt >= 3 || !isVsdbError(err, 'NOT_FOUND') || this.views.retention(this.log.node).releases === 0) throw err
      }
    }
  }

  async #readOnce(ledger: RawLedger, { entity, from, to }: ReadOptions): Promise<Observation[]> {
    const out: Observation[] = []
    const inRange = (ts: number) => (from === undefined || ts >= from) && (to === undefined || ts <= to)
    // One moment's view of what is sealed and what is held (taken before any await, so the two agree).
    const sealed = this.#sealedThrough(entity).get(entity) ?? 0
    const segments = this.views.segments({ entity, from, to })
    const held = ledger.held(entity)
    for (const s of segments) {
      const { ts, vectors } = this.#parts.decode(s.codec, await this.log.getBlock(CID.parse(s.data)))
      for (let i = 0; i < ts.length; i++)
        if (inRange(ts[i] as number)) out.push({ entity, ts: ts[i] as number, vector: vectors[i] as number[] })
    }
    // Observations not sealed yet are read from their held ingest batches (arrival order past the last `through`).
    for (const batch of held) {
      if (batch.end <= sealed) continue
      const { ts, vectors } = decodeBatchBlock(dagCbor.decode(await this.log.getBlock(batch.batch)))
      for (let i = Math.max(0, sealed - batch.start); i < ts.length; i++) {
        if (inRange(ts[i] as number)) out.push({ entity, ts: ts[i] as number, vector: vectors[i] as number[] })
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

  /**
   * The checkpoint's views and index if the log holds its position (`position`: what checkPosition said), then
   * the log's tail; else a replay from zero.
   */
  async load(read: CheckpointRead, position: Rejected | undefined): Promise<void> {
    const rejected = 'rejected' in read ? read : position
    if (rejected === undefined && !('rejected' in read)) {
      this.index = read.dirs
      this.views = createViews(read.state)
      this.#checkpointedEvents = read.state.events
      this.loadedFrom = { checkpoint: true, tail: await this.refresh() }
      return
    }
    this.views = createViews()
    this.index = createSegmentIndex()
    this.loadedFrom = { checkpoint: false, tail: await this.refresh(), reason: rejected?.rejected }
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

type CheckpointRead = LoadedCheckpoint<SegmentIndex> | Rejected

/** A checkpoint's views and vector index, read and checked against their hashes: all but their position in the log. */
async function readProjections(opened: OpenedCheckpoint | Rejected): Promise<CheckpointRead> {
  if ('rejected' in opened) return opened
  const read = await readCheckpointFiles(opened, (dir, hashes) =>
    loadSegmentIndex(join(dir, 'index'), { manifestSha256: hashes['index/'] }),
  )
  if ('rejected' in read || read.dirs.size === read.state.segments.count) return read
  return { rejected: `checkpoint index unusable: it holds ${read.dirs.size} segments, the views ${read.state.segments.count}` }
}

/** Opens a node: its log, and the views (from the last checkpoint and the log's tail, or folded from zero). */
export async function openNode(options: NodeOptions): Promise<VsdbNode> {
  // The checkpoint is read while the log opens: its files vouch for themselves by their hashes, and its
  // position (in its manifest, read first) is checked against the log as soon as the log is open.
  const opened = openCheckpoint(join(resolve(options.dir), 'projections'))
  const checkpoint = opened.then(readProjections)
  const log = await openLog({ dir: options.dir })
  try {
    const position = opened.then((o) => ('rejected' in o ? o : checkPosition(o, log)))
    const node = new EngineNode(log, createViews(), { ...DEFAULT_SEGMENTER_CONFIG, ...options.segmenter }, options.parts)
    await node.load(await checkpoint, await position)
    return node
  } catch (err) {
    await log.close()
    throw isVsdbError(err) ? err : new VsdbError('INVALID_EVENT', `cannot fold the log: ${(err as Error).message}`, {}, { cause: err })
  }
}

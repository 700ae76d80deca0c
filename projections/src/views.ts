import type { PayloadOf, RetentionPolicy, StoredEvent } from '@vsdb/log'
import { type Restored, SegmentMap } from './segment-map.ts'

export interface SegmentRecord {
  cid: string
  node: string
  seq: number
  entity: string
  from: number
  to: number
  count: number
  through: number
  centroid: number[]
  anomaly: number
  alerts: { ts: number; score: number }[]
  regime: string
  codec: string
  errorBound: number[]
  data: string
}

export interface EntityView {
  entity: string
  dim: number
  observations: number
  batches: number
  from: number
  to: number
  segments: number
  sealedObservations: number
  maxAnomaly: number
  alerts: number
  regimes: string[]
}

export interface SegmentFilter {
  entity?: string
  from?: number
  to?: number
  minAnomaly?: number
  regime?: string
  limit?: number
}

export interface AlertRecord {
  entity: string
  segment: string
  ts: number
  score: number
}

/** A node's raw retention, from its `retention` events: its policy now and what it released under it. */
export interface RetentionView {
  node: string
  policy: RetentionPolicy
  /** Retention events that released blocks. */
  releases: number
  /** Ingest events whose raw batch blocks were released. */
  batches: number
  /** Bytes of those blocks. */
  bytes: number
}

/** Where a fold stands: for each node, the highest seq applied (every event at or below it is in). */
export type Position = Record<string, number>

export interface ViewsState {
  position: Position
  events: number
  byType: Record<string, number>
  entities: EntityView[]
  segments: SegmentRecord[]
  /** Nodes that recorded a retention event, by node. */
  retention: RetentionView[]
}

/** A checkpoint's segments: how many, and their records, built when first asked for (see views-codec.ts). */
export type RestoredSegments = Restored<SegmentRecord>

/** A views state read back from a checkpoint, its segments not built yet. */
export type RestoredState = Omit<ViewsState, 'segments'> & { segments: RestoredSegments }

export interface Views {
  readonly position: Position
  apply(stored: StoredEvent): SegmentRecord | undefined
  entities(): EntityView[]
  entity(id: string): EntityView | undefined
  segment(cid: string): SegmentRecord | undefined
  segments(filter?: SegmentFilter): SegmentRecord[]
  alerts(filter?: SegmentFilter): AlertRecord[]
  counts(): { events: number; byType: Record<string, number>; entities: number; segments: number; released: number }
  /** A node's raw retention (policy `keep` and nothing released when it recorded none). */
  retention(node: string): RetentionView
  state(): ViewsState
}

/** Empty views, or views restored from a checkpoint's state. */
export function createViews(state?: RestoredState): Views {
  return state === undefined ? new QueryViews() : QueryViews.from(state)
}

/**
 * The query views, a pure fold of events: entities (from ingest and segment events), segments by entity,
 * time, anomaly and regime, alerts, and each node's raw retention (policy and released counts). The result does not depend on the order chains are folded in, and
 * `state()` is sorted, so a live node and a replay from zero reach the same bytes.
 */
class QueryViews implements Views {
  readonly #entities = new Map<string, EntityView>()
  readonly #segments: SegmentMap<SegmentRecord>
  readonly #byType = new Map<string, number>()
  readonly #retention = new Map<string, RetentionView>()
  #position: Position = {}
  #events = 0

  constructor(restored?: RestoredSegments) {
    this.#segments = new SegmentMap(restored)
  }

  static from(state: RestoredState): QueryViews {
    const views = new QueryViews(state.segments)
    views.#position = { ...state.position }
    views.#events = state.events
    for (const [type, n] of Object.entries(state.byType)) views.#byType.set(type, n)
    for (const entity of state.entities) views.#entities.set(entity.entity, { ...entity, regimes: [...entity.regimes] })
    for (const retention of state.retention ?? []) views.#retention.set(retention.node, { ...retention })
    return views
  }

  get position(): Position {
    return this.#position
  }

  /** Folds one event in (the caller feeds each event once: see fold.ts). Returns the segment it added, if any. */
  apply(stored: StoredEvent): SegmentRecord | undefined {
    const cid = stored.cid.toString()
    const { event } = stored
    this.#events++
    this.#byType.set(event.type, (this.#byType.get(event.type) ?? 0) + 1)
    if ((this.#position[event.node] ?? -1) < event.seq) this.#position[event.node] = event.seq
    if (event.type === 'ingest') this.#applyIngest(event.payload as PayloadOf<'ingest'>)
    if (event.type === 'segment') return this.#applySegment(cid, event.node, event.seq, event.payload as PayloadOf<'segment'>)
    if (event.type === 'retention') this.#applyRetention(event.node, event.payload as PayloadOf<'retention'>)
    return undefined
  }

  #applyRetention(node: string, p: PayloadOf<'retention'>): void {
    const view = this.retention(node)
    view.policy = p.policy
    if (p.released.length > 0) {
      view.releases++
      view.batches += p.released.length
      view.bytes += p.bytes
    }
    this.#retention.set(node, view)
  }

  retention(node: string): RetentionView {
    return { ...(this.#retention.get(node) ?? { node, policy: 'keep', releases: 0, batches: 0, bytes: 0 }) }
  }

  #entity(entity: string, dim: number, from: number, to: number): EntityView {
    let view = this.#entities.get(entity)
    if (view === undefined) {
      view = {
        entity,
        dim,
        observations: 0,
        batches: 0,
        from,
        to,
        segments: 0,
        sealedObservations: 0,
        maxAnomaly: 0,
        alerts: 0,
        regimes: [],
      }
      this.#entities.set(entity, view)
    }
    return view
  }

  #applyIngest(p: PayloadOf<'ingest'>): void {
    const view = this.#entity(p.entity, p.dim, p.from, p.to)
    view.observations += p.count
    view.batches++
    view.from = Math.min(view.from, p.from)
    view.to = Math.max(view.to, p.to)
  }

  #applySegment(cid: string, node: string, seq: number, p: PayloadOf<'segment'>): SegmentRecord {
    const view = this.#entity(p.entity, p.centroid.length, p.from, p.to)
    view.segments++
    view.sealedObservations += p.count
    view.maxAnomaly = Math.max(view.maxAnomaly, p.anomaly)
    view.alerts += p.alerts.length
    if (!view.regimes.includes(p.regime)) view.regimes = [...view.regimes, p.regime].sort()
    const record: SegmentRecord = {
      cid,
      node,
      seq,
      entity: p.entity,
      from: p.from,
      to: p.to,
      count: p.count,
      through: p.through,
      centroid: p.centroid,
      anomaly: p.anomaly,
      alerts: p.alerts,
      regime: p.regime,
      codec: p.codec,
      errorBound: p.errorBound,
      data: p.data.toString(),
    }
    this.#segments.set(cid, record)
    return record
  }

  entities(): EntityView[] {
    return [...this.#entities.values()].sort((a, b) => (a.entity < b.entity ? -1 : a.entity > b.entity ? 1 : 0))
  }

  entity(id: string): EntityView | undefined {
    return this.#entities.get(id)
  }

  segment(cid: string): SegmentRecord | undefined {
    return this.#segments.get(cid)
  }

  /** Segments matching every given filter (a time range matches segments overlapping it), oldest first. */
  segments(filter: SegmentFilter = {}): SegmentRecord[] {
    const out: SegmentRecord[] = []
    for (const s of this.#segments.values()) if (matches(s, filter)) out.push(s)
    out.sort((a, b) => a.from - b.from || (a.cid < b.cid ? -1 : 1))
    return filter.limit === undefined ? out : out.slice(0, filter.limit)
  }

  alerts(filter: SegmentFilter = {}): AlertRecord[] {
    const out: AlertRecord[] = []
    for (const s of this.segments({ ...filter, limit: undefined })) {
      for (const alert of s.alerts) {
        if (filter.from !== undefined && alert.ts < filter.from) continue
        if (filter.to !== undefined && alert.ts > filter.to) continue
        out.push({ entity: s.entity, segment: s.cid, ts: alert.ts, score: alert.score })
      }
    }
    out.sort((a, b) => a.ts - b.ts || b.score - a.score)
    return filter.limit === undefined ? out : out.slice(0, filter.limit)
  }

  counts(): { events: number; byType: Record<string, number>; entities: number; segments: number; released: number } {
    let released = 0
    for (const view of this.#retention.values()) released += view.batches
    return {
      events: this.#events,
      byType: Object.fromEntries([...this.#byType].sort()),
      entities: this.#entities.size,
      segments: this.#segments.size,
      released,
    }
  }

  /** The whole state, sorted: what the digest covers and what a checkpoint stores. */
  state(): ViewsState {
    return {
      position: Object.fromEntries(Object.entries(this.#position).sort(([a], [b]) => (a < b ? -1 : 1))),
      events: this.#events,
      byType: Object.fromEntries([...this.#byType].sort()),
      entities: this.entities(),
      segments: [...this.#segments.values()].sort((a, b) => (a.cid < b.cid ? -1 : 1)),
      retention: [...this.#retention.values()].sort((a, b) => (a.node < b.node ? -1 : 1)),
    }
  }
}

export function matches(s: { entity: string; from: number; to: number; anomaly: number; regime: string }, filter: SegmentFilter): boolean {
  if (filter.entity !== undefined && s.entity !== filter.entity) return false
  if (filter.from !== undefined && s.to < filter.from) return false
  if (filter.to !== undefined && s.from > filter.to) return false
  if (filter.minAnomaly !== undefined && s.anomaly < filter.minAnomaly) return false
  if (filter.regime !== undefined && s.regime !== filter.regime) return false
  return true
}

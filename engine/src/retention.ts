import { type PayloadOf, type StoredEvent, VsdbError } from '@vsdb/log'
import type { CID } from 'multiformats/cid'
import { z } from 'zod'
import type { SegmenterState } from './segmenter.ts'

/** One `ingest` batch of this node whose raw block is still held: its place in its entity's arrival order. */
export interface RawBatch {
  /** The ingest event (CID text). */
  event: string
  seq: number
  entity: string
  batch: CID
  /** Arrival positions of its observations in its entity's stream: [start, end). */
  start: number
  end: number
}

/** Where an entity's segmenter stood at a seal, as a `retention` release records it (the linked `resume` state). */
export interface ResumeState {
  v: 1
  entity: string
  /** The `through` of the seal: every observation before it is in a sealed segment. */
  through: number
  segmenter: SegmenterState
  /** The model's `snapshot()`, or null when the engine's parts take none (a restart then starts a fresh model). */
  parts: unknown
}

const finite = z.number().finite()
const resumeStateSchema = z.strictObject({
  v: z.literal(1),
  entity: z.string().min(1),
  through: z.number().int().positive(),
  segmenter: z.strictObject({
    entity: z.string().min(1),
    dim: z.number().int().positive(),
    seen: z.number().int().nonnegative(),
    low: z.array(finite),
    high: z.array(finite),
    ts: z.array(z.number().int()),
    vectors: z.array(z.array(finite)),
    scores: z.array(finite),
  }),
  parts: z.unknown(),
})

/**
 * The resume state as a block value, every array of numbers packed as little-endian float64 bytes (`{f64}`): a
 * restart resumes from exactly the numbers the model held (DAG-CBOR would write −0 as 0), in 8 bytes per number.
 */
export function packResumeState(state: ResumeState): unknown {
  return pack(state)
}

function pack(value: unknown): unknown {
  if (Array.isArray(value)) {
    if (value.length > 0 && value.every((x) => typeof x === 'number')) {
      const bytes = new Uint8Array(value.length * 8)
      const view = new DataView(bytes.buffer)
      for (const [i, x] of value.entries()) view.setFloat64(i * 8, x as number, true)
      return { f64: bytes }
    }
    return value.map(pack)
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, pack(v)]))
  }
  return value
}

function unpack(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unpack)
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const entries = Object.entries(value)
    const [only] = entries
    if (entries.length === 1 && only?.[0] === 'f64' && only[1] instanceof Uint8Array && only[1].length % 8 === 0) {
      const bytes = only[1]
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      return Array.from({ length: bytes.length / 8 }, (_, i) => view.getFloat64(i * 8, true))
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, unpack(v)]))
  }
  return value
}

/** Checks a resume block's decoded value (it is our own signed block, but it is read from disk). */
export function parseResumeState(value: unknown, cid: CID, entity: string): ResumeState {
  const parsed = resumeStateSchema.safeParse(unpack(value))
  const fail = (why: string) => new VsdbError('INVALID_EVENT', `resume state ${cid} of entity ${entity}: ${why}`, { cid: cid.toString() })
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw fail(`${issue?.path.join('.') ?? '(root)'}: ${issue?.message ?? 'invalid'}`)
  }
  const state = parsed.data as ResumeState
  const s = state.segmenter
  if (state.entity !== entity || s.entity !== entity) throw fail('it is the state of another entity')
  if (s.low.length !== s.dim || s.high.length !== s.dim || s.ts.length !== s.vectors.length || s.ts.length !== s.scores.length)
    throw fail('inconsistent sizes')
  return state
}

/**
 * The node's own raw batches and its raw retention, folded from the log: which `ingest` batches of this node are
 * still held (per entity, in arrival order), which batch blocks other nodes' ingest events also link, and the
 * entities' last resume states (the policy itself is in the views). Built once per process from the type index (ingest events, not their
 * blocks), then kept current event by event as the node folds them. Never checkpointed: it is cheap to rebuild.
 */
export class RawLedger {
  readonly node: string
  /**
   * Whether every other node's ingest event held was folded in (the build skips them; the first release scans them):
   * until then `releasable` must not be asked.
   */
  foreignComplete = false
  #lastOwnSeq = -1
  readonly #arrived = new Map<string, number>()
  readonly #dims = new Map<string, number>()
  /** Per entity: its held batches by ingest event, in arrival order (a Map keeps insertion order). */
  readonly #held = new Map<string, Map<string, RawBatch>>()
  /** Every held batch by its ingest event. */
  readonly #entries = new Map<string, RawBatch>()
  /** Batch block (multihash) → the held own ingest events linking it (the same batch ingested twice links one block). */
  readonly #linkers = new Map<string, Set<string>>()
  /** Batch blocks (multihash) that ingest events of other nodes link: never released here. */
  readonly #foreign = new Set<string>()
  readonly #resume = new Map<string, { through: number; state: CID }>()

  constructor(node: string) {
    this.node = node
  }

  /**
   * Folds one event. Own events must come in seq order (a repeat is ignored); other nodes' events in any order.
   * Returns nothing: the ledger only listens to `ingest` and `retention` events.
   */
  apply({ event, cid }: StoredEvent): void {
    if (event.type !== 'ingest' && event.type !== 'retention') return
    if (event.node !== this.node) {
      if (event.type === 'ingest') this.#foreign.add(batchKey((event.payload as PayloadOf<'ingest'>).batch))
      return
    }
    if (event.seq <= this.#lastOwnSeq) return
    this.#lastOwnSeq = event.seq
    if (event.type === 'ingest') {
      const p = event.payload as PayloadOf<'ingest'>
      const start = this.#arrived.get(p.entity) ?? 0
      this.#arrived.set(p.entity, start + p.count)
      if (!this.#dims.has(p.entity)) this.#dims.set(p.entity, p.dim)
      const entry: RawBatch = { event: cid.toString(), seq: event.seq, entity: p.entity, batch: p.batch, start, end: start + p.count }
      let held = this.#held.get(p.entity)
      if (held === undefined) {
        held = new Map()
        this.#held.set(p.entity, held)
      }
      held.set(entry.event, entry)
      this.#entries.set(entry.event, entry)
      const key = batchKey(p.batch)
      this.#linkers.set(key, (this.#linkers.get(key) ?? new Set()).add(entry.event))
      return
    }
    const p = event.payload as PayloadOf<'retention'>
    for (const released of p.released) {
      const name = released.toString()
      const entry = this.#entries.get(name)
      if (entry === undefined) continue
      this.#entries.delete(name)
      const held = this.#held.get(entry.entity)
      held?.delete(name)
      if (held?.size === 0) this.#held.delete(entry.entity)
      const key = batchKey(entry.batch)
      const linkers = this.#linkers.get(key)
      linkers?.delete(name)
      if (linkers?.size === 0) this.#linkers.delete(key)
    }
    if (p.resume !== null) this.#resume.set(p.resume.entity, { through: p.resume.through, state: p.resume.state })
  }

  /** Entities this node ingested, in first-ingest order. */
  entities(): string[] {
    return [...this.#arrived.keys()]
  }

  dim(entity: string): number | undefined {
    return this.#dims.get(entity)
  }

  /** Observations of the entity this node ingested, released or not. */
  arrived(entity: string): number {
    return this.#arrived.get(entity) ?? 0
  }

  /** The entity's held batches, in arrival order (a copy: safe to iterate across awaits). */
  held(entity: string): RawBatch[] {
    return [...(this.#held.get(entity)?.values() ?? [])]
  }

  /** The entity's last resume state (from its latest release), if any. */
  resume(entity: string): { through: number; state: CID } | undefined {
    return this.#resume.get(entity)
  }

  /**
   * The held batches a release may drop now: those of each entity whose observations all lie before `sealed(entity)`
   * (its last seal), whose block no other node's ingest event links, and whose every held own linker is releasable
   * too (the same block ingested again later waits for the later copy to be sealed). In arrival order per entity.
   */
  releasable(sealed: (entity: string) => number): Map<string, RawBatch[]> {
    if (!this.foreignComplete) throw new Error('the raw ledger has not seen the ingest events of other nodes yet')
    const out = new Map<string, RawBatch[]>()
    const eligible = (entry: RawBatch | undefined) => entry !== undefined && entry.end <= sealed(entry.entity)
    for (const [entity, held] of this.#held) {
      const picked: RawBatch[] = []
      for (const entry of held.values()) {
        if (!eligible(entry)) break // arrival order: every later batch ends later
        const key = batchKey(entry.batch)
        if (this.#foreign.has(key)) continue
        const linkers = this.#linkers.get(key) ?? new Set()
        if ([...linkers].every((name) => eligible(held.get(name)))) picked.push(entry)
      }
      if (picked.length > 0) out.set(entity, picked)
    }
    return out
  }
}

function batchKey(cid: CID): string {
  return Buffer.from(cid.multihash.bytes).toString('base64')
}

import { Interner } from './interner.ts'
import type { LabelList } from './label-list.ts'

/**
 * The metadata of every segment, beside the HNSW graphs: one column per field, indexed by label (insertion
 * order). Entity ids and regimes are interned, so a filter compares small integers; the columns are typed
 * arrays, so a filter callback reads them without touching a JS object.
 */
export class SegmentTable {
  count = 0
  entity: Uint32Array = new Uint32Array(0)
  regime: Uint32Array = new Uint32Array(0)
  from: Float64Array = new Float64Array(0)
  to: Float64Array = new Float64Array(0)
  anomaly: Float64Array = new Float64Array(0)
  /** The dimension of the segment's centroid: which HNSW holds it. */
  dim: Uint32Array = new Uint32Array(0)
  /** Its position inside that HNSW's own arrays. */
  local: Uint32Array = new Uint32Array(0)
  cids: string[] = []
  readonly entities = new Interner()
  readonly regimes = new Interner()
  /** The dimension of each entity, by entity id: every segment of an entity has the same. */
  readonly entityDims: number[] = []
  readonly #byCid = new Map<string, number>()
  /** After a restore, the entities' and regimes' label lists are built on first use (a restart is ready without them). */
  #listsPending = false

  labelOf(cid: string): number | undefined {
    return this.#byCid.get(cid)
  }

  /** An entity's labels, in insertion order (use this, not `entities.labels`: the lists may not be built yet). */
  entityLabels(id: number): LabelList {
    this.#listsReady()
    return this.entities.labels(id)
  }

  append(row: {
    cid: string
    entity: number
    regime: number
    from: number
    to: number
    anomaly: number
    dim: number
    local: number
  }): number {
    const label = this.count
    if (label === this.entity.length) this.#grow(Math.max(1024, label * 2))
    this.entity[label] = row.entity
    this.regime[label] = row.regime
    this.from[label] = row.from
    this.to[label] = row.to
    this.anomaly[label] = row.anomaly
    this.dim[label] = row.dim
    this.local[label] = row.local
    this.cids.push(row.cid)
    this.#byCid.set(row.cid, label)
    this.#listsReady()
    this.entities.labels(row.entity).push(label)
    this.regimes.labels(row.regime).push(label)
    this.count++
    return label
  }

  /**
   * Fills this (empty) table with a checkpoint's columns, taking ownership of the typed arrays. Returns what is
   * wrong when the columns do not hold together (a name given twice; an id out of range or, for entities, not in
   * first-seen order; an entity of two dimensions; a CID missing or given twice). A restart waits on this, its code
   * cold: one pass checks the columns, one fills the CID map; the label lists wait for their first use.
   */
  restore(c: RestoredColumns): string | undefined {
    for (const name of c.entities) this.entities.intern(name)
    for (const name of c.regimes) this.regimes.intern(name)
    if (this.entities.size !== c.entities.length || this.regimes.size !== c.regimes.length) return 'an entity or regime is named twice'
    const n = c.count
    const entities = c.entities.length
    const regimes = c.regimes.length
    const dims = this.entityDims
    for (let label = 0; label < n; label++) {
      const entity = c.entity[label] as number
      const regime = c.regime[label] as number
      const dim = c.dim[label] as number
      if (entity === dims.length && entity < entities) dims.push(dim)
      else if (entity > dims.length || dims[entity] !== dim) return `entity ids out of order or of two dimensions at label ${label}`
      if (regime >= regimes || typeof c.cids[label] !== 'string') return `label ${label} names an unknown regime or no CID`
    }
    const cids = c.cids as readonly string[]
    for (let label = 0; label < n; label++) this.#byCid.set(cids[label] as string, label)
    if (this.#byCid.size !== n) return 'CIDs are not one per segment'
    this.entity = c.entity
    this.regime = c.regime
    this.from = c.from
    this.to = c.to
    this.anomaly = c.anomaly
    this.dim = c.dim
    this.local = c.local
    this.cids = cids.slice()
    this.count = n
    this.#listsPending = true
    return undefined
  }

  /** The label lists of a restored table, from its columns (ids checked by restore): a count, then a fill. */
  #listsReady(): void {
    if (!this.#listsPending) return
    this.#listsPending = false
    for (const [interner, ids] of [
      [this.entities, this.entity],
      [this.regimes, this.regime],
    ] as const) {
      const counts = new Uint32Array(interner.size)
      for (let label = 0; label < this.count; label++) {
        const id = ids[label] as number
        counts[id] = (counts[id] as number) + 1
      }
      const lists = Array.from(counts, (count) => new Uint32Array(count))
      const filled = new Uint32Array(interner.size)
      for (let label = 0; label < this.count; label++) {
        const id = ids[label] as number
        const at = filled[id] as number
        ;(lists[id] as Uint32Array)[at] = label
        filled[id] = at + 1
      }
      for (const [id, labels] of lists.entries()) interner.restoreLabels(id, labels)
    }
  }

  #grow(capacity: number): void {
    this.entity = growU32(this.entity, capacity)
    this.regime = growU32(this.regime, capacity)
    this.from = growF64(this.from, capacity)
    this.to = growF64(this.to, capacity)
    this.anomaly = growF64(this.anomaly, capacity)
    this.dim = growU32(this.dim, capacity)
    this.local = growU32(this.local, capacity)
  }
}

/** The per-segment columns a checkpoint keeps, each of `count` entries (ids into its entity and regime lists). */
export interface SegmentColumns {
  count: number
  entity: Uint32Array
  regime: Uint32Array
  from: Float64Array
  to: Float64Array
  anomaly: Float64Array
  dim: Uint32Array
}

/** A checkpoint's columns, with each segment's place in its dimension's index. */
export interface RestoredColumns extends SegmentColumns {
  entities: readonly string[]
  regimes: readonly string[]
  cids: readonly unknown[]
  local: Uint32Array
}

function growU32(a: Uint32Array, capacity: number): Uint32Array {
  const b = new Uint32Array(capacity)
  b.set(a)
  return b
}

function growF64(a: Float64Array, capacity: number): Float64Array {
  const b = new Float64Array(capacity)
  b.set(a)
  return b
}

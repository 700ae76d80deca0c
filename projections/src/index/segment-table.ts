import { Interner } from './interner.ts'

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
  readonly cids: string[] = []
  readonly entities = new Interner()
  readonly regimes = new Interner()
  /** The dimension of each entity, by entity id: every segment of an entity has the same. */
  readonly entityDims: number[] = []
  readonly #byCid = new Map<string, number>()

  labelOf(cid: string): number | undefined {
    return this.#byCid.get(cid)
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
    this.entities.labels(row.entity).push(label)
    this.regimes.labels(row.regime).push(label)
    this.count++
    return label
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

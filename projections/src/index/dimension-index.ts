import type { HierarchicalNSW } from 'hnswlib-node'
import hnswlib from 'hnswlib-node'
import { LabelList } from './label-list.ts'
import type { ResolvedOptions } from './options.ts'
import type { SegmentSpace } from './types.ts'

// hnswlib-node is CommonJS whose `module.exports` is the native addon: only the default import works at run
// time (`import { HierarchicalNSW } from 'hnswlib-node'` type-checks, then fails in Node's ESM loader).
const { HierarchicalNSW: Hnsw } = hnswlib

/**
 * The HNSW of one dimension and the centroids it holds, kept in float64 beside it (hnswlib keeps float32, and
 * under `cosine` only the normalised vector). Local positions are the order of insertion into this index;
 * hnswlib labels are the global segment labels.
 */
export class DimensionIndex {
  readonly dim: number
  readonly hnsw: HierarchicalNSW
  /** Global label of each local position. */
  readonly labels: LabelList
  #centroids: Float64Array
  #capacity: number
  #ef = -1

  private constructor(dim: number, hnsw: HierarchicalNSW, labels: LabelList, centroids: Float64Array, capacity: number) {
    this.dim = dim
    this.hnsw = hnsw
    this.labels = labels
    this.#centroids = centroids
    this.#capacity = capacity
  }

  static create(dim: number, options: ResolvedOptions): DimensionIndex {
    const hnsw = new Hnsw(options.space, dim)
    hnsw.initIndex(options.initialCapacity, options.m, options.efConstruction, options.seed, false)
    const index = new DimensionIndex(
      dim,
      hnsw,
      new LabelList(options.initialCapacity),
      new Float64Array(options.initialCapacity * dim),
      options.initialCapacity,
    )
    index.setEf(options.efSearch)
    return index
  }

  /** An HNSW read back from a checkpoint file; the caller has checked the file's hash already. */
  static async readGraph(file: string, space: SegmentSpace, dim: number): Promise<HierarchicalNSW> {
    const hnsw = new Hnsw(space, dim)
    await hnsw.readIndex(file, false)
    return hnsw
  }

  /** An index around an HNSW read back from a checkpoint, with the labels and centroids the metadata lists. */
  static fromGraph(hnsw: HierarchicalNSW, dim: number, labels: Uint32Array, centroids: Float64Array, efSearch: number): DimensionIndex {
    const capacity = Math.max(hnsw.getMaxElements(), labels.length)
    const room = new Float64Array(capacity * dim)
    room.set(centroids)
    const index = new DimensionIndex(dim, hnsw, LabelList.from(labels), room, capacity)
    // loadIndex resets hnswlib's ef to 10, whatever it was when saved.
    index.setEf(efSearch)
    return index
  }

  get count(): number {
    return this.labels.length
  }

  get capacity(): number {
    return this.#capacity
  }

  /** Adds a centroid under a global label; doubles the HNSW (resizeIndex) first when it is full. */
  add(label: number, centroid: readonly number[]): number {
    const local = this.labels.length
    if (local === this.#capacity) {
      const capacity = this.#capacity * 2
      this.hnsw.resizeIndex(capacity)
      const grown = new Float64Array(capacity * this.dim)
      grown.set(this.#centroids)
      this.#centroids = grown
      this.#capacity = capacity
    }
    // hnswlib-node takes a plain Array only (a typed array is refused), and copies it to float32.
    this.hnsw.addPoint(centroid as number[], label)
    this.#centroids.set(centroid, local * this.dim)
    this.labels.push(label)
    return local
  }

  /** All centroids, local position × dim, float64 (a view: valid until the next add). */
  centroids(): Float64Array {
    return this.#centroids.subarray(0, this.labels.length * this.dim)
  }

  centroid(local: number): Float64Array {
    return this.#centroids.subarray(local * this.dim, (local + 1) * this.dim)
  }

  /** hnswlib's ef, set only when it changes (hnswlib itself searches with max(ef, k)). */
  setEf(ef: number): void {
    if (ef !== this.#ef) {
      this.hnsw.setEf(ef)
      this.#ef = ef
    }
  }
}

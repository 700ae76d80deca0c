import { createHash, type Hash } from 'node:crypto'

/**
 * The index's logical content as one sha-256, for the node's state digest: the same segments added in the same
 * order give the same digest, whatever the HNSW graphs' bytes (which depend on hnswlib's internals, its build
 * parameters and whether the index was reloaded from a checkpoint).
 *
 * Canonical encoding, all integers and floats little-endian:
 *   header:     UTF-8 "vsdb/segment-index/v1", 0x00, the space ("l2" | "cosine"), 0x00
 *   per label, in label order (0, 1, 2, …):
 *     u32 length + UTF-8 cid, u32 length + UTF-8 entity, u32 length + UTF-8 regime,
 *     f64 from, f64 to, f64 anomaly, u32 dim, dim × f64 centroid
 * The hash runs as segments are added, so `digest()` costs a copy of the hash state, not a pass over the index.
 */
export class RunningDigest {
  /** Made at the first flush: a loaded index that is never digested (a restart) makes none. */
  #hash: Hash | null = null
  // Labels are encoded into this buffer and hashed a chunk at a time: one hash call per label costs more than
  // the encoding (a restart re-adds every segment of the checkpoint).
  #buf = Buffer.allocUnsafe(1 << 16)
  #view = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength)
  #used = 0

  constructor(space: string) {
    this.#used = this.#buf.write(`vsdb/segment-index/v1\0${space}\0`, 'utf8')
  }

  #reserve(size: number): void {
    if (this.#used + size <= this.#buf.length) return
    this.#flush()
    if (size > this.#buf.length) {
      this.#buf = Buffer.allocUnsafe(size)
      this.#view = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength)
    }
  }

  #flush(): Hash {
    this.#hash ??= createHash('sha256')
    const hash = this.#hash
    if (this.#used === 0) return hash
    hash.update(this.#buf.subarray(0, this.#used))
    this.#used = 0
    return hash
  }

  add(cid: string, entity: string, regime: string, from: number, to: number, anomaly: number, centroid: ArrayLike<number>): void {
    const cidBytes = Buffer.byteLength(cid, 'utf8')
    const entityBytes = Buffer.byteLength(entity, 'utf8')
    const regimeBytes = Buffer.byteLength(regime, 'utf8')
    const dim = centroid.length
    this.#reserve(12 + cidBytes + entityBytes + regimeBytes + 24 + 4 + 8 * dim)
    const buf = this.#buf
    const view = this.#view
    let o = this.#used
    view.setUint32(o, cidBytes, true)
    o += 4 + buf.write(cid, o + 4, 'utf8')
    view.setUint32(o, entityBytes, true)
    o += 4 + buf.write(entity, o + 4, 'utf8')
    view.setUint32(o, regimeBytes, true)
    o += 4 + buf.write(regime, o + 4, 'utf8')
    view.setFloat64(o, from, true)
    view.setFloat64(o + 8, to, true)
    view.setFloat64(o + 16, anomaly, true)
    view.setUint32(o + 24, dim, true)
    o += 28
    for (let j = 0; j < dim; j++, o += 8) view.setFloat64(o, centroid[j] as number, true)
    this.#used = o
  }

  /** sha-256 (hex) of everything added so far; adding may go on. */
  hex(): string {
    return this.#flush().copy().digest('hex')
  }
}

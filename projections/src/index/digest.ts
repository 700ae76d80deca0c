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
  #hash: Hash
  #buf = Buffer.allocUnsafe(4096)

  constructor(space: string) {
    this.#hash = createHash('sha256')
    this.#hash.update(`vsdb/segment-index/v1\0${space}\0`, 'utf8')
  }

  add(cid: string, entity: string, regime: string, from: number, to: number, anomaly: number, centroid: ArrayLike<number>): void {
    const cidBytes = Buffer.byteLength(cid, 'utf8')
    const entityBytes = Buffer.byteLength(entity, 'utf8')
    const regimeBytes = Buffer.byteLength(regime, 'utf8')
    const dim = centroid.length
    const size = 12 + cidBytes + entityBytes + regimeBytes + 24 + 4 + 8 * dim
    if (size > this.#buf.length) this.#buf = Buffer.allocUnsafe(Math.max(size, this.#buf.length * 2))
    const buf = this.#buf
    let o = 0
    o = buf.writeUInt32LE(cidBytes, o)
    o += buf.write(cid, o, 'utf8')
    o = buf.writeUInt32LE(entityBytes, o)
    o += buf.write(entity, o, 'utf8')
    o = buf.writeUInt32LE(regimeBytes, o)
    o += buf.write(regime, o, 'utf8')
    o = buf.writeDoubleLE(from, o)
    o = buf.writeDoubleLE(to, o)
    o = buf.writeDoubleLE(anomaly, o)
    o = buf.writeUInt32LE(dim, o)
    for (let j = 0; j < dim; j++) o = buf.writeDoubleLE(centroid[j] as number, o)
    this.#hash.update(buf.subarray(0, o))
  }

  /** sha-256 (hex) of everything added so far; adding may go on. */
  hex(): string {
    return this.#hash.copy().digest('hex')
  }
}

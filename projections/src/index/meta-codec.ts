import { endianness } from 'node:os'
import { VsdbError } from '@vsdb/log'
import type { SegmentColumns } from './segment-table.ts'

/**
 * The metadata file of a checkpoint: everything beside the HNSW graphs, in one compact binary file.
 *
 *   "VSDBSEG1" · u32 LE header length · header (UTF-8 JSON) · zero padding to 8 · sections, each padded to 8
 *
 * The header holds the content's digest (see digest.ts), the strings (entity ids, regimes, CIDs) and the list of
 * sections; the sections are the
 * columns as raw little-endian typed arrays: entity, regime (u32 ids), from, to, anomaly (f64), dim (u32), then
 * for each dimension its labels (u32, local order) and its centroids (f64, local × dim).
 */
export interface MetaSnapshot extends SegmentColumns {
  /** The digest of the content (digest.ts) when it was saved: the manifest's must be the same. */
  digest: string
  entities: string[]
  regimes: string[]
  cids: string[]
  dimensions: { dim: number; labels: Uint32Array; centroids: Float64Array }[]
}

const MAGIC = 'VSDBSEG1'

interface Section {
  name: string
  type: 'u32' | 'f64'
  length: number
}

interface Header {
  count: number
  digest: string
  entities: string[]
  regimes: string[]
  cids: string[]
  dims: number[]
  sections: Section[]
}

function littleEndianOnly(): void {
  if (endianness() !== 'LE') throw new VsdbError('WRITE_FAILED', 'segment index checkpoints are little-endian; this machine is big-endian')
}

const pad8 = (n: number): number => (n + 7) & ~7

export function encodeMeta(s: MetaSnapshot): Buffer {
  littleEndianOnly()
  const arrays: [Section, Uint32Array | Float64Array][] = [
    [{ name: 'entity', type: 'u32', length: s.count }, s.entity],
    [{ name: 'regime', type: 'u32', length: s.count }, s.regime],
    [{ name: 'from', type: 'f64', length: s.count }, s.from],
    [{ name: 'to', type: 'f64', length: s.count }, s.to],
    [{ name: 'anomaly', type: 'f64', length: s.count }, s.anomaly],
    [{ name: 'dim', type: 'u32', length: s.count }, s.dim],
  ]
  for (const d of s.dimensions) {
    arrays.push([{ name: `labels-${d.dim}`, type: 'u32', length: d.labels.length }, d.labels])
    arrays.push([{ name: `centroids-${d.dim}`, type: 'f64', length: d.centroids.length }, d.centroids])
  }
  const header: Header = {
    count: s.count,
    digest: s.digest,
    entities: s.entities,
    regimes: s.regimes,
    cids: s.cids,
    dims: s.dimensions.map((d) => d.dim),
    sections: arrays.map(([section]) => section),
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8')
  let size = pad8(MAGIC.length + 4 + json.length)
  for (const [, a] of arrays) size += pad8(a.byteLength)
  const out = Buffer.alloc(size)
  out.write(MAGIC, 0, 'latin1')
  out.writeUInt32LE(json.length, MAGIC.length)
  json.copy(out, MAGIC.length + 4)
  let o = pad8(MAGIC.length + 4 + json.length)
  for (const [, a] of arrays) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), o)
    o += pad8(a.byteLength)
  }
  return out
}

function corrupt(file: string, what: string): VsdbError {
  return new VsdbError('CORRUPT_BLOCK', `segment index checkpoint ${file}: ${what}`, { file, field: 'meta' })
}

function isStringArray(value: unknown): value is string[] {
  if (!Array.isArray(value)) return false
  for (let i = 0; i < value.length; i++) if (typeof value[i] !== 'string') return false
  return true
}

function parseHeader(bytes: Uint8Array, file: string): { header: Header; start: number } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buf.length < MAGIC.length + 4 || buf.toString('latin1', 0, MAGIC.length) !== MAGIC) throw corrupt(file, 'not a metadata file')
  const length = buf.readUInt32LE(MAGIC.length)
  if (MAGIC.length + 4 + length > buf.length) throw corrupt(file, 'header runs past the end')
  let header: unknown
  try {
    header = JSON.parse(buf.toString('utf8', MAGIC.length + 4, MAGIC.length + 4 + length))
  } catch {
    throw corrupt(file, 'header is not JSON')
  }
  const h = header as Partial<Header> | null
  if (
    h === null ||
    typeof h !== 'object' ||
    typeof h.count !== 'number' ||
    !Number.isInteger(h.count) ||
    h.count < 0 ||
    typeof h.digest !== 'string' ||
    !isStringArray(h.entities) ||
    !isStringArray(h.regimes) ||
    !Array.isArray(h.cids) ||
    !Array.isArray(h.dims) ||
    !h.dims.every((d) => Number.isInteger(d) && d > 0) ||
    !Array.isArray(h.sections)
  ) {
    throw corrupt(file, 'header is malformed')
  }
  return { header: h as Header, start: pad8(MAGIC.length + 4 + length) }
}

/**
 * Decodes and cross-checks a metadata file: each label in exactly one dimension, with its position there (`local`).
 * The per-label checks of ids and CIDs are made where the table is filled (SegmentTable.restore): each pass over
 * the labels costs, on a restart's cold code.
 */
export function decodeMeta(bytes: Uint8Array, file: string): MetaSnapshot & { local: Uint32Array } {
  littleEndianOnly()
  const { header, start } = parseHeader(bytes, file)
  const sections = new Map<string, Uint32Array | Float64Array>()
  let o = start
  for (const s of header.sections) {
    const width = s.type === 'u32' ? 4 : 8
    if (typeof s.name !== 'string' || (s.type !== 'u32' && s.type !== 'f64') || !Number.isInteger(s.length) || s.length < 0) {
      throw corrupt(file, 'bad section')
    }
    const byteLength = s.length * width
    if (o + byteLength > bytes.length) throw corrupt(file, `section ${s.name} runs past the end`)
    const out = s.type === 'u32' ? new Uint32Array(s.length) : new Float64Array(s.length)
    new Uint8Array(out.buffer).set(bytes.subarray(o, o + byteLength))
    sections.set(s.name, out)
    o += pad8(byteLength)
  }
  if (o !== bytes.length) throw corrupt(file, 'trailing bytes')
  const n = header.count
  const u32 = (name: string, length: number): Uint32Array => {
    const a = sections.get(name)
    if (!(a instanceof Uint32Array) || a.length !== length) throw corrupt(file, `section ${name} is missing or of the wrong size`)
    return a
  }
  const f64 = (name: string, length: number): Float64Array => {
    const a = sections.get(name)
    if (!(a instanceof Float64Array) || a.length !== length) throw corrupt(file, `section ${name} is missing or of the wrong size`)
    return a
  }
  const snapshot: MetaSnapshot = {
    count: n,
    digest: header.digest,
    entities: header.entities,
    regimes: header.regimes,
    cids: header.cids,
    entity: u32('entity', n),
    regime: u32('regime', n),
    from: f64('from', n),
    to: f64('to', n),
    anomaly: f64('anomaly', n),
    dim: u32('dim', n),
    dimensions: [],
  }
  if (header.cids.length !== n) throw corrupt(file, 'CIDs are not one per segment')
  const seen = new Uint8Array(n)
  const local = new Uint32Array(n)
  let placed = 0
  for (const dim of header.dims) {
    const labels = sections.get(`labels-${dim}`)
    if (!(labels instanceof Uint32Array)) throw corrupt(file, `no labels for dimension ${dim}`)
    const centroids = f64(`centroids-${dim}`, labels.length * dim)
    for (let i = 0; i < labels.length; i++) {
      const label = labels[i] as number
      if (label >= n || seen[label] === 1 || snapshot.dim[label] !== dim)
        throw corrupt(file, `label ${label} is misplaced in dimension ${dim}`)
      seen[label] = 1
      local[label] = i
    }
    placed += labels.length
    snapshot.dimensions.push({ dim, labels, centroids })
  }
  // No label is in two dimensions (seen above), so n placed means every label is in one.
  if (placed !== n) throw corrupt(file, 'a label is in no dimension')
  return { ...snapshot, local }
}

/**
 * A batch of observations as one binary frame, the typed client's wire format for `ingest`: timestamps and values as
 * little-endian float64, so nothing is formatted as decimal text and parsed back (JSON of a 1,000 × 16 batch is
 * ~340 kB and ~5 ms of stringify + parse here; the frame is ~140 kB and a copy). Rows keep their order, so an
 * error names the same `observations.N` either way.
 *
 *   "VSDBOBS1"                       8 bytes
 *   u32 header length, header JSON   {count, entities: string[], dims: number[], entity?: string}, padded to 8
 *   u32 × count                      each row's index into `entities`, padded to 8
 *   f64 × count                      each row's ts (epoch ms)
 *   f64 × Σ dims[row's entity]       the rows' vectors, one after another
 */
export const FRAME_MAGIC = 'VSDBOBS1'
export const FRAME_MAX_ROWS = 100_000
export const FRAME_MAX_DIM = 4_096
/** Entity ids as the API takes them (the JSON path's rule): rows breaking it go as JSON, which names the field. */
const MAX_ENTITY = 256
const plainEntity = (e: unknown): boolean => e === undefined || (typeof e === 'string' && e.length >= 1 && e.length <= MAX_ENTITY)

export interface FrameRow {
  entity?: string
  ts: number
  vector: number[]
}

export interface FrameHeader {
  count: number
  entities: string[]
  dims: number[]
  entity?: string
}

const pad8 = (n: number): number => Math.ceil(n / 8) * 8

/** Where the row indexes, timestamps and values start, after a header of `headerLength` bytes. */
export function frameLayout(headerLength: number, count: number): { indexAt: number; tsAt: number; valuesAt: number } {
  const indexAt = pad8(12 + headerLength)
  const tsAt = pad8(indexAt + 4 * count)
  return { indexAt, tsAt, valuesAt: tsAt + 8 * count }
}

/**
 * The frame of `rows` with `entity` as the batch's default entity, or null when the rows are not all plain (a row
 * with `meta`, a timestamp that is not a number, a value that is not a number, one entity with two dimensions):
 * those go as JSON, where the node checks them and names what is wrong.
 */
export function encodeObservationFrame(rows: readonly unknown[], entity?: string): Uint8Array | null {
  if (rows.length === 0 || rows.length > FRAME_MAX_ROWS || !plainEntity(entity)) return null
  const entities: string[] = []
  const dims: number[] = []
  const indexOf = new Map<string | undefined, number>()
  const rowEntity = new Uint32Array(rows.length)
  let values = 0
  // Batches are mostly of one entity: the last one's index is kept at hand.
  let lastName: string | undefined
  let last = -1
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as Partial<FrameRow> & { meta?: unknown }
    if (typeof row !== 'object' || row === null || typeof row.ts !== 'number') return null
    // Inherited keys count, as the node's schema counts them.
    for (const key in row) if (key !== 'entity' && key !== 'ts' && key !== 'vector') return null
    const vector = row.vector
    if (!Array.isArray(vector) || vector.length === 0 || vector.length > FRAME_MAX_DIM) return null
    for (let d = 0; d < vector.length; d++) if (typeof vector[d] !== 'number') return null
    let e = last
    if (last === -1 || row.entity !== lastName) {
      if (!plainEntity(row.entity)) return null
      e = indexOf.get(row.entity) ?? -1
      if (e === -1) {
        e = entities.length
        indexOf.set(row.entity, e)
        // A row without an entity takes the batch's: the empty name stands for "none given" (no entity id is empty).
        entities.push(row.entity ?? '')
        dims.push(vector.length)
      }
      lastName = row.entity
      last = e
    }
    if (dims[e] !== vector.length) return null
    rowEntity[i] = e
    values += vector.length
  }
  const header: FrameHeader = entity === undefined ? { count: rows.length, entities, dims } : { count: rows.length, entities, dims, entity }
  const headerBytes = new TextEncoder().encode(JSON.stringify(header))
  const { indexAt, tsAt, valuesAt } = frameLayout(headerBytes.length, rows.length)
  const bytes = new Uint8Array(valuesAt + 8 * values)
  const view = new DataView(bytes.buffer)
  for (let i = 0; i < FRAME_MAGIC.length; i++) bytes[i] = FRAME_MAGIC.charCodeAt(i)
  view.setUint32(8, headerBytes.length, true)
  bytes.set(headerBytes, 12)
  const columns = frameColumns(bytes, indexAt, tsAt, valuesAt, rows.length, values)
  columns.rowEntity.set(rowEntity)
  let at = 0
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as FrameRow
    columns.ts[i] = row.ts
    const vector = row.vector
    for (let d = 0; d < vector.length; d++) columns.values[at++] = vector[d] as number
  }
  columns.flush()
  return bytes
}

/** Whether this machine keeps numbers little-endian, as frames do: then typed arrays read and write them directly. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/**
 * A frame's row indexes, timestamps and values as typed arrays over its bytes (~3× faster than a DataView per
 * number): views where the bytes are aligned and the machine little-endian, else copies, which `flush` writes back
 * into the frame (encoding). Reading needs no flush.
 */
export function frameColumns(
  bytes: Uint8Array,
  indexAt: number,
  tsAt: number,
  valuesAt: number,
  count: number,
  values: number,
): { rowEntity: Uint32Array; ts: Float64Array; values: Float64Array; flush(): void } {
  const end = valuesAt + 8 * values
  if (LITTLE_ENDIAN && bytes.byteOffset % 8 === 0) {
    return {
      rowEntity: new Uint32Array(bytes.buffer, bytes.byteOffset + indexAt, count),
      ts: new Float64Array(bytes.buffer, bytes.byteOffset + tsAt, count),
      values: new Float64Array(bytes.buffer, bytes.byteOffset + valuesAt, values),
      flush: () => {},
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const rowEntity = new Uint32Array(count)
  const ts = new Float64Array(count)
  const vals = new Float64Array(values)
  for (let i = 0; i < count; i++) rowEntity[i] = view.getUint32(indexAt + 4 * i, true)
  for (let i = 0; i < count; i++) ts[i] = view.getFloat64(tsAt + 8 * i, true)
  for (let i = 0; i < values; i++) vals[i] = view.getFloat64(valuesAt + 8 * i, true)
  return {
    rowEntity,
    ts,
    values: vals,
    flush: () => {
      if (end > bytes.length) throw new RangeError('frame columns past the frame')
      for (let i = 0; i < count; i++) view.setUint32(indexAt + 4 * i, rowEntity[i] as number, true)
      for (let i = 0; i < count; i++) view.setFloat64(tsAt + 8 * i, ts[i] as number, true)
      for (let i = 0; i < values; i++) view.setFloat64(valuesAt + 8 * i, vals[i] as number, true)
    },
  }
}

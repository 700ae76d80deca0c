import { deserialize, serialize } from 'node:v8'
import type { AlertRecord, RestoredState, SegmentRecord, ViewsState } from './views.ts'

/**
 * The views' state as a checkpoint stores it: V8's structured-clone bytes (exact for every number, -0 included)
 * of the small parts as they are, and of the segments as columns. A restart waits on reading the segments back:
 * one object per segment built from typed arrays is several times faster than V8 rebuilding the objects (and
 * their repeated keys and strings) one property at a time, and leaves the collector less to do. The CIDs are one
 * string (V8 reads an array of strings back one string at a time, 5× slower), cut when the records are built.
 *
 * Per segment, in `state.segments` order:
 *   text, ends  its cid and data CID, end to end in `text`; `ends` holds where each of the two ends
 *   refs      4 indexes into `names`: node, entity, regime, codec (few distinct values)
 *   numbers   6 float64: seq, from, to, count, through, anomaly
 *   lengths   3 counts: centroid, errorBound, alerts
 *   values    the centroid, the error bound, then each alert's ts and score, all float64, one segment after another
 */
interface SegmentColumns {
  count: number
  text: string
  ends: Uint32Array
  names: string[]
  refs: Uint32Array
  numbers: Float64Array
  lengths: Uint32Array
  values: Float64Array
}

type Encoded = Omit<ViewsState, 'segments'> & { segments: SegmentColumns }

const REFS = 4
const NUMBERS = 6
const LENGTHS = 3

export function encodeViewsState(state: ViewsState): Uint8Array {
  const { segments, ...rest } = state
  const encoded: Encoded = { ...rest, segments: toColumns(segments) }
  return serialize(encoded)
}

/**
 * The state, its segments checked for size now and built into records when first asked for: a restart is
 * ready without them (the bytes were checked against their sha-256 before; see segment-map.ts).
 */
export function decodeViewsState(bytes: Uint8Array): RestoredState {
  const { segments, ...rest } = deserialize(bytes) as Encoded
  checkSizes(segments)
  let records: SegmentRecord[] | undefined
  return { ...rest, segments: { count: segments.count, records: () => (records ??= fromColumns(segments)) } }
}

function toColumns(segments: readonly SegmentRecord[]): SegmentColumns {
  const n = segments.length
  const names: string[] = []
  const ids = new Map<string, number>()
  const ref = (name: string): number => {
    let id = ids.get(name)
    if (id === undefined) {
      id = names.push(name) - 1
      ids.set(name, id)
    }
    return id
  }
  const strings: string[] = new Array(2 * n)
  const ends = new Uint32Array(2 * n)
  const refs = new Uint32Array(REFS * n)
  const numbers = new Float64Array(NUMBERS * n)
  const lengths = new Uint32Array(LENGTHS * n)
  let size = 0
  for (const s of segments) size += s.centroid.length + s.errorBound.length + 2 * s.alerts.length
  const values = new Float64Array(size)
  let v = 0
  for (let i = 0; i < n; i++) {
    const s = segments[i] as SegmentRecord
    strings[2 * i] = s.cid
    strings[2 * i + 1] = s.data
    ends[2 * i] = (i === 0 ? 0 : (ends[2 * i - 1] as number)) + s.cid.length
    ends[2 * i + 1] = (ends[2 * i] as number) + s.data.length
    refs.set([ref(s.node), ref(s.entity), ref(s.regime), ref(s.codec)], REFS * i)
    numbers.set([s.seq, s.from, s.to, s.count, s.through, s.anomaly], NUMBERS * i)
    lengths.set([s.centroid.length, s.errorBound.length, s.alerts.length], LENGTHS * i)
    values.set(s.centroid, v)
    v += s.centroid.length
    values.set(s.errorBound, v)
    v += s.errorBound.length
    for (const alert of s.alerts) {
      values[v++] = alert.ts
      values[v++] = alert.score
    }
  }
  return { count: n, text: strings.join(''), ends, names, refs, numbers, lengths, values }
}

/**
 * The bytes were checked against their sha-256 before; the sizes are checked all the same, so a bug cannot pass
 * unseen: the columns' and the CIDs' here, the values' as the records are built (fromColumns).
 */
function checkSizes(c: SegmentColumns): void {
  const n = c.count
  const { text, ends, refs, numbers, lengths } = c
  if (ends.length !== 2 * n || refs.length !== REFS * n || numbers.length !== NUMBERS * n || lengths.length !== LENGTHS * n) {
    throw new Error('segment columns of the wrong sizes')
  }
  if ((n === 0 ? 0 : ends[2 * n - 1]) !== text.length) throw new Error('segment CIDs of the wrong size')
}

/** The records, in one pass over the columns: this code runs cold, and each pass costs. */
function fromColumns(c: SegmentColumns): SegmentRecord[] {
  const out: SegmentRecord[] = new Array(c.count)
  let v = 0
  for (let i = 0; i < c.count && v <= c.values.length; i++) {
    const record = segmentAt(c, i, v)
    out[i] = record
    v += record.centroid.length + record.errorBound.length + 2 * record.alerts.length
  }
  if (v !== c.values.length) throw new Error('segment values of the wrong size')
  return out
}

/** One segment's record, from its row of the columns (a small function: it is optimised early, a long loop late). */
function segmentAt(c: SegmentColumns, i: number, start: number): SegmentRecord {
  const { text, ends, names, refs, numbers, lengths, values } = c
  const r = REFS * i
  const x = NUMBERS * i
  const l = LENGTHS * i
  const dim = lengths[l] as number
  const bounds = lengths[l + 1] as number
  const alerts: Pick<AlertRecord, 'ts' | 'score'>[] = new Array(lengths[l + 2] as number)
  for (let a = 0, v = start + dim + bounds; a < alerts.length; a++, v += 2) {
    alerts[a] = { ts: values[v] as number, score: values[v + 1] as number }
  }
  // The fields in the order the fold writes them: same shape, same JSON.
  return {
    cid: text.slice(i === 0 ? 0 : ends[2 * i - 1], ends[2 * i]),
    node: names[refs[r] as number] as string,
    seq: numbers[x] as number,
    entity: names[refs[r + 1] as number] as string,
    from: numbers[x + 1] as number,
    to: numbers[x + 2] as number,
    count: numbers[x + 3] as number,
    through: numbers[x + 4] as number,
    centroid: floats(values, start, dim),
    anomaly: numbers[x + 5] as number,
    alerts,
    regime: names[refs[r + 2] as number] as string,
    codec: names[refs[r + 3] as number] as string,
    errorBound: floats(values, start + dim, bounds),
    data: text.slice(ends[2 * i], ends[2 * i + 1]),
  }
}

function floats(values: Float64Array, start: number, length: number): number[] {
  const out: number[] = new Array(length)
  for (let j = 0; j < length; j++) out[j] = values[start + j] as number
  return out
}

import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deserialize, serialize } from 'node:v8'
import { encodeBlock, initLog, type Log, type PayloadOf, type StoredEvent } from '@vsdb/log'
import { afterEach, describe, expect, it } from 'vitest'
import { checkPosition, loadCheckpoint, readCheckpoint, writeCheckpoint } from '../src/checkpoint.ts'
import { stateDigest } from '../src/digest.ts'
import { eventsAfter } from '../src/fold.ts'
import { createSegmentIndex, loadSegmentIndex, type SegmentIndex } from '../src/index/index.ts'
import { createViews, type SegmentRecord, type ViewsState } from '../src/views.ts'
import { decodeViewsState, encodeViewsState } from '../src/views-codec.ts'

const dirs: string[] = []
const logs: Log[] = []

afterEach(async () => {
  await Promise.all(logs.splice(0).map((log) => log.close()))
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vsdb-checkpoint-'))
  dirs.push(dir)
  return dir
}

async function newLog(): Promise<Log> {
  const log = await initLog({ dir: join(await tempDir(), 'node') })
  logs.push(log)
  return log
}

function segment(i: number, dim: number, node: string): SegmentRecord {
  return {
    cid: `bafy-segment-${String(i).padStart(4, '0')}`,
    node,
    seq: 10 + i,
    entity: `e${dim}-${i % 3}`,
    from: 1_700_000_000_000 + i * 1000,
    to: 1_700_000_000_999 + i * 1000,
    count: 100 + i,
    through: 100 * (i + 1),
    centroid: Array.from({ length: dim }, (_, j) => (j === 0 && i === 2 ? -0 : i / 7 + j)),
    anomaly: i === 1 ? 0 : 1 / (i + 3),
    alerts: i % 4 === 0 ? [] : Array.from({ length: i % 4 }, (_, j) => ({ ts: 1_700_000_000_000 + i * 1000 + j, score: 0.9 + j / 100 })),
    regime: `r${i % 2}`,
    codec: i % 5 === 0 ? 'other/1' : 'vsdb-lossy/1',
    errorBound: Array.from({ length: i % 3 === 0 ? 0 : dim }, (_, j) => j * 0.25),
    data: `bafk-data-${i}`,
  }
}

/** A segment event's payload, its data a block of its own. */
function segmentPayload(): { payload: PayloadOf<'segment'>; blocks: [ReturnType<typeof encodeBlock>] } {
  const block = encodeBlock({ observations: 'x' })
  const payload = {
    entity: 'e3-0',
    from: 1_800_000_000_000,
    to: 1_800_000_000_500,
    count: 5,
    through: 5,
    centroid: [1, 2, 3],
    min: [0, 0, 0],
    max: [2, 3, 4],
    anomaly: 0.5,
    alerts: [{ ts: 1_800_000_000_100, score: 0.95 }],
    regime: 'r0',
    codec: 'vsdb-lossy/1',
    errorBound: [0.1, 0.1, 0.1],
    data: block.cid,
  }
  return { payload, blocks: [block] }
}

/** The views of the log folded, plus made-up segments (the codec's cases: dimensions, alerts, -0, empty bounds). */
async function stateOf(log: Log, segments = 12): Promise<ViewsState> {
  const views = createViews()
  for await (const stored of eventsAfter(log)) views.apply(stored)
  const state = views.state()
  return { ...state, segments: Array.from({ length: segments }, (_, i) => segment(i, i < 8 ? 3 : 1, log.node)) }
}

function indexOf(state: ViewsState): SegmentIndex {
  const index = createSegmentIndex()
  for (const s of state.segments) index.add(s)
  return index
}

async function write(root: string, log: Log, state: ViewsState): Promise<void> {
  const index = indexOf(state)
  await writeCheckpoint(root, log, state, {}, async (dir) => ({ 'index/': (await index.save(join(dir, 'index'))).manifestSha256 }))
}

/** What a node does: the views and the index, each file checked against the hash the manifest holds. */
function readWithIndex(root: string) {
  return readCheckpoint(root, (dir, hashes) => loadSegmentIndex(join(dir, 'index'), { manifestSha256: hashes['index/'] }))
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true })
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name))
}

describe('views codec', () => {
  it('round-trips a state exactly: same records, same digest, -0 kept', async () => {
    const log = await newLog()
    const state = await stateOf(log)
    const restored = decodeViewsState(encodeViewsState(state))
    expect(restored.segments.count).toBe(state.segments.length)
    const back = { ...restored, segments: restored.segments.records() }
    expect(back).toEqual(state)
    expect(stateDigest(back)).toBe(stateDigest(state))
    expect(Object.is(back.segments[2]?.centroid[0], -0)).toBe(true)
    expect(Object.keys(back.segments[5] as SegmentRecord)).toEqual(Object.keys(state.segments[5] as SegmentRecord))
    const empty = { ...state, segments: [] }
    const emptyBack = decodeViewsState(encodeViewsState(empty))
    expect({ ...emptyBack, segments: emptyBack.segments.records() }).toEqual(empty)
  })

  it('refuses columns of the wrong sizes: when decoding, or the values when the records are built', async () => {
    const log = await newLog()
    const { segments, ...rest } = deserialize(encodeViewsState(await stateOf(log))) as {
      segments: { values: Float64Array; numbers: Float64Array; ends: Uint32Array; text: string }
    }
    const decode = (columns: object) => decodeViewsState(serialize({ ...rest, segments: columns }))
    for (const columns of [
      { ...segments, text: segments.text.slice(1) },
      { ...segments, ends: segments.ends.subarray(1) },
      { ...segments, numbers: segments.numbers.subarray(1) },
    ]) {
      expect(() => decode(columns)).toThrow(/segment/)
    }
    for (const values of [segments.values.subarray(1), new Float64Array([...segments.values, 1])]) {
      expect(() => decode({ ...segments, values }).segments.records()).toThrow(/segment values/)
    }
  })

  it('views restored from a checkpoint build their segments on first read, with the tail folded since', async () => {
    const log = await newLog()
    const state = await stateOf(log)
    const restored = decodeViewsState(encodeViewsState(state))
    let built = 0
    const records = () => {
      built++
      return restored.segments.records()
    }
    const views = createViews({ ...restored, segments: { count: restored.segments.count, records } })
    expect(views.counts().segments).toBe(state.segments.length)
    expect(views.entity(state.entities[0]?.entity as string)).toEqual(state.entities[0])
    expect(built).toBe(0)
    // A segment folded before the restored ones are built.
    const [stored] = await log.appendBatch([{ type: 'segment', ...segmentPayload() }])
    const added = views.apply(stored as StoredEvent)
    expect(views.counts().segments).toBe(state.segments.length + 1)
    expect(built).toBe(0)
    expect(views.segment(state.segments[3]?.cid as string)).toEqual(state.segments[3])
    expect(views.segment(added?.cid as string)).toEqual(added)
    expect(views.state().segments).toEqual([...state.segments, added].sort((a, b) => ((a?.cid as string) < (b?.cid as string) ? -1 : 1)))
    expect(views.segments({ entity: 'e3-1' })).toEqual(state.segments.filter((s) => s.entity === 'e3-1'))
    expect(built).toBe(1)
  })
})

describe('checkpoints', () => {
  it('round-trips the views and the index, at a position the log holds', async () => {
    const log = await newLog()
    const state = await stateOf(log)
    const root = await tempDir()
    await write(root, log, state)
    const loaded = await loadCheckpoint(root, log)
    if ('rejected' in loaded) throw new Error(loaded.rejected)
    expect(stateDigest(createViews(loaded.state).state())).toBe(stateDigest(state))
    const read = await readWithIndex(root)
    if ('rejected' in read) throw new Error(read.rejected)
    expect(read.dirs.digest()).toBe(indexOf(state).digest())
    expect(await checkPosition(read, log)).toBeUndefined()
  })

  it('rejects a flipped byte in any file of the checkpoint, and every byte of its manifest', async () => {
    const log = await newLog()
    const root = await tempDir()
    await write(root, log, await stateOf(log))
    const files = await filesUnder(root)
    const kind = (file: string) =>
      file
        .slice(root.length + 1)
        .replace(/checkpoint-[^/]+/, 'C')
        .replace(/-[0-9a-f]{16}\.bin$/, '.bin')
    expect(files.map(kind).sort()).toEqual([
      'C/index/hnsw-1.bin',
      'C/index/hnsw-3.bin',
      'C/index/manifest.json',
      'C/index/meta.bin',
      'C/manifest.json',
      'C/views.bin',
      'CURRENT',
    ])
    const manifest = join(root, (await readFile(join(root, 'CURRENT'), 'utf8')).trim(), 'manifest.json')
    for (const file of files) {
      const original = await readFile(file)
      // Every byte of the checkpoint's own manifest (the index's is the index tests' business).
      const offsets = file === manifest ? original.keys() : [0, original.length >> 1, original.length - 1]
      for (const at of offsets) {
        const bad = Buffer.from(original)
        bad[at] = (bad[at] as number) ^ 0x01
        await writeFile(file, bad)
        expect(await readWithIndex(root), `${file} byte ${at}`).toMatchObject({ rejected: expect.any(String) })
      }
      await writeFile(file, original)
    }
    expect(await readWithIndex(root)).not.toHaveProperty('rejected')
  }, 30_000)

  it('rejects a truncated or missing file', async () => {
    const log = await newLog()
    const root = await tempDir()
    await write(root, log, await stateOf(log))
    for (const file of await filesUnder(root)) {
      const original = await readFile(file)
      await writeFile(file, original.subarray(0, original.length - 1))
      expect(await readWithIndex(root), file).toMatchObject({ rejected: expect.any(String) })
      await rm(file)
      expect(await readWithIndex(root), file).toMatchObject({ rejected: expect.any(String) })
      await writeFile(file, original)
    }
    expect(await readWithIndex(root)).not.toHaveProperty('rejected')
  })

  it('rejects a stale checkpoint: of another log, or ahead of this one', async () => {
    const log = await newLog()
    const root = await tempDir()
    await write(root, log, await stateOf(log))
    const other = await newLog()
    const read = await readWithIndex(root)
    if ('rejected' in read) throw new Error(read.rejected)
    expect(await checkPosition(read, other)).toMatchObject({ rejected: expect.stringMatching(/does not hold/) })
    expect(await loadCheckpoint(root, other)).toMatchObject({ rejected: expect.stringMatching(/does not hold/) })

    // Views folded further than the log goes (a log restored from an older copy): no CID to vouch for the position.
    const state = await stateOf(log)
    const ahead = { ...state, position: { [log.node]: (state.position[log.node] as number) + 5 } }
    await write(root, log, ahead)
    expect(await loadCheckpoint(root, log)).toMatchObject({ rejected: expect.stringMatching(/do not cover/) })
  })
})

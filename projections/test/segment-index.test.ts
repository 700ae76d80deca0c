import { createHash } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createSegmentIndex,
  loadSegmentIndex,
  type SegmentFilters,
  type SegmentHit,
  type SegmentIndex,
  type SegmentIndexOptions,
  type SegmentInput,
} from '../src/index/index.ts'

const dirs: string[] = []

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vsdb-segment-index-'))
  dirs.push(dir)
  return dir
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

/** mulberry32: a small seeded PRNG, so every run sees the same data. */
function prng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const HOUR = 3_600_000
const T0 = 1_700_000_000_000

/** Clustered segments: `entities` entities taking turns, hour-long windows, anomaly skewed low, 3 regimes. */
function makeSegments(n: number, dim: number, seed = 1, entities = 5, prefix = 'seg'): SegmentInput[] {
  const rnd = prng(seed)
  const centers = Array.from({ length: 6 }, () => Array.from({ length: dim }, () => rnd() * 10 - 5))
  return Array.from({ length: n }, (_, i) => {
    const c = centers[Math.floor(rnd() * centers.length)] as number[]
    const from = T0 + Math.floor(i / entities) * HOUR
    return {
      cid: `${prefix}-${dim}-${i}`,
      entity: `e${i % entities}`,
      from,
      to: from + HOUR - 1,
      anomaly: rnd() ** 3,
      regime: `r${i % 3}`,
      centroid: c.map((x) => x + rnd() - 0.5),
    }
  })
}

function build(segments: SegmentInput[], options: SegmentIndexOptions = {}): SegmentIndex {
  const index = createSegmentIndex(options)
  for (const s of segments) index.add(s)
  return index
}

function l2(a: readonly number[], b: readonly number[]): number {
  let d = 0
  for (let i = 0; i < a.length; i++) d += ((a[i] as number) - (b[i] as number)) ** 2
  return d
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] as number) * (b[i] as number)
    na += (a[i] as number) ** 2
    nb += (b[i] as number) ** 2
  }
  return 1 - dot / Math.sqrt(na * nb)
}

function passes(s: Pick<SegmentInput, 'entity' | 'regime' | 'from' | 'to' | 'anomaly'>, f: SegmentFilters): boolean {
  return (
    (f.entity === undefined || s.entity === f.entity) &&
    (f.regime === undefined || s.regime === f.regime) &&
    (f.from === undefined || s.to >= f.from) &&
    (f.to === undefined || s.from <= f.to) &&
    (f.minAnomaly === undefined || s.anomaly >= f.minAnomaly)
  )
}

function brute(
  segments: SegmentInput[],
  vector: readonly number[],
  k: number,
  f: SegmentFilters = {},
  distance = l2,
): { cid: string; d: number }[] {
  return segments
    .filter((s) => s.centroid.length === vector.length && passes(s, f))
    .map((s) => ({ cid: s.cid, d: distance(vector, s.centroid) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, k)
}

function recall(hits: SegmentHit[], truth: { cid: string }[]): number {
  const want = new Set(truth.map((t) => t.cid))
  return truth.length === 0 ? 1 : hits.filter((h) => want.has(h.cid)).length / truth.length
}

function queries(n: number, dim: number, seed: number): number[][] {
  const rnd = prng(seed)
  return Array.from({ length: n }, () => Array.from({ length: dim }, () => rnd() * 10 - 5))
}

describe('segment index: k-NN', () => {
  const segments = makeSegments(600, 8)
  const index = build(segments)

  it('finds the same neighbours as brute force, nearest first, with the segment metadata and squared-L2 distances', () => {
    let total = 0
    // Queries near the data (a stored centroid plus noise), as real ones are.
    const rnd = prng(7)
    const near = Array.from({ length: 40 }, (_, i) => (segments[i * 13] as SegmentInput).centroid.map((x) => x + rnd() - 0.5))
    for (const q of near) {
      const hits = index.search({ vector: q, k: 10 })
      const truth = brute(segments, q, 10)
      total += recall(hits, truth)
      expect(hits).toHaveLength(10)
      for (let i = 1; i < hits.length; i++)
        expect((hits[i] as SegmentHit).distance).toBeGreaterThanOrEqual((hits[i - 1] as SegmentHit).distance)
      for (const h of hits) {
        const s = segments.find((x) => x.cid === h.cid) as SegmentInput
        expect(h).toMatchObject({ entity: s.entity, from: s.from, to: s.to, anomaly: s.anomaly, regime: s.regime })
        expect(h.distance).toBeCloseTo(l2(q, s.centroid), 3)
      }
    }
    expect(total / 40).toBeGreaterThanOrEqual(0.99)
    // Uniform queries in the box, far from every cluster, are HNSW's hard case.
    let far = 0
    for (const q of queries(40, 8, 8)) far += recall(index.search({ vector: q, k: 10 }), brute(segments, q, 10))
    expect(far / 40).toBeGreaterThanOrEqual(0.95)
  })

  it('ranks exactly on request (plan exact), filter or not', () => {
    for (const q of queries(5, 8, 9)) {
      const exact = index.search({ vector: q, k: 10, plan: 'exact' })
      const truth = brute(segments, q, 10)
      expect(exact.map((h) => h.cid)).toEqual(truth.map((t) => t.cid))
      for (const [i, h] of exact.entries()) expect(h.distance).toBeCloseTo(truth[i]?.d as number, 9)
    }
  })

  it('finds a stored centroid itself at distance 0', () => {
    const s = segments[123] as SegmentInput
    const [first] = index.search({ vector: s.centroid, k: 1 })
    expect(first?.cid).toBe(s.cid)
    expect(first?.distance).toBeCloseTo(0, 5)
    expect(index.get(s.cid)).toMatchObject({ label: 123, ...s })
  })

  it('supports cosine distance', () => {
    const cos = build(segments, { space: 'cosine' })
    let total = 0
    for (const q of queries(20, 8, 8)) {
      const hits = cos.search({ vector: q, k: 10 })
      const truth = brute(segments, q, 10, {}, cosine)
      total += recall(hits, truth)
      expect(hits[0]?.distance).toBeCloseTo(truth[0]?.d as number, 4)
      const exact = cos.search({ vector: q, k: 10, from: T0, plan: 'exact' })
      expect(exact.map((h) => h.cid)).toEqual(truth.map((t) => t.cid))
      expect(exact[0]?.distance).toBeCloseTo(truth[0]?.d as number, 6)
    }
    expect(total / 20).toBeGreaterThanOrEqual(0.95)
  })

  it('keeps dimensions apart: a query goes to the index of its dimension', () => {
    const mixed = build([
      ...makeSegments(50, 4, 2, 2, 'a'),
      ...makeSegments(60, 6, 3, 3, 'b').map((s) => ({ ...s, entity: `w${s.entity}` })),
    ])
    expect(mixed.dimensions()).toEqual([
      { dim: 4, count: 50, capacity: 1024 },
      { dim: 6, count: 60, capacity: 1024 },
    ])
    const hits = mixed.search({ vector: [0, 0, 0, 0, 0, 0], k: 60 })
    expect(hits).toHaveLength(60)
    expect(hits.every((h) => h.cid.startsWith('b-6-'))).toBe(true)
    expect(mixed.search({ vector: [0, 0, 0, 0], k: 5, entity: 'e1' }).every((h) => h.entity === 'e1')).toBe(true)
  })
})

describe('segment index: filters inside the search', () => {
  const segments = makeSegments(800, 8, 4)
  const index = build(segments)
  const mid = T0 + 60 * HOUR
  const cases: [string, SegmentFilters][] = [
    ['entity', { entity: 'e3' }],
    ['time range (overlap)', { from: mid, to: mid + 20 * HOUR }],
    ['open-ended time range', { from: T0 + 150 * HOUR }],
    ['min anomaly', { minAnomaly: 0.5 }],
    ['regime', { regime: 'r2' }],
    ['all at once', { entity: 'e1', from: T0, to: mid, minAnomaly: 0.05, regime: 'r1' }],
  ]
  for (const [name, filter] of cases) {
    it(`${name}: every plan returns the filtered brute-force neighbours`, () => {
      for (const q of queries(15, 8, 11)) {
        const truth = brute(segments, q, 10, filter)
        expect(truth.length).toBeGreaterThan(0)
        for (const plan of ['auto', 'hnsw', 'exact'] as const) {
          const fallbacks = index.counters().fallbacks
          const hits = index.search({ vector: q, k: 10, ...filter, plan })
          // Inside the search: the graph walk itself found k that pass, no exact scan had to finish the job.
          if (plan === 'hnsw' && truth.length === 10) expect(index.counters().fallbacks).toBe(fallbacks)
          expect(hits.every((h) => passes(h, filter))).toBe(true)
          expect(hits).toHaveLength(truth.length)
          if (plan === 'exact') expect(hits.map((h) => h.cid)).toEqual(truth.map((t) => t.cid))
          else expect(recall(hits, truth)).toBeGreaterThanOrEqual(0.9)
        }
      }
    })
  }

  it('time filter: a segment touching the range at either end overlaps it', () => {
    const s = segments[200] as SegmentInput
    for (const range of [
      { from: s.to, to: s.to + HOUR * 1000 },
      { from: s.from - HOUR * 1000, to: s.from },
    ]) {
      const hits = index.search({ vector: s.centroid, k: 1, entity: s.entity, ...range, plan: 'hnsw' })
      expect(hits[0]?.cid).toBe(s.cid)
    }
    // The entity's next window starts at s.to + 1: it overlaps, s does not.
    const next = index.search({ vector: s.centroid, k: 1, entity: s.entity, from: s.to + 1, to: s.to + 2 })
    expect(next.map((h) => h.cid)).toEqual(['seg-8-205'])
  })

  it('returns every match when fewer than k pass, whichever the plan', () => {
    const filter = { entity: 'e2', from: T0, to: T0 + 10 * HOUR }
    const truth = brute(segments, [0, 0, 0, 0, 0, 0, 0, 0], 50, filter)
    expect(truth.length).toBeLessThan(50)
    for (const plan of ['auto', 'hnsw', 'exact'] as const) {
      expect(index.search({ vector: [0, 0, 0, 0, 0, 0, 0, 0], k: 50, ...filter, plan }).map((h) => h.cid)).toEqual(truth.map((t) => t.cid))
    }
    expect(index.counters().fallbacks).toBeGreaterThan(0)
  })
})

describe('segment index: searchLike', () => {
  const segments = makeSegments(400, 8, 5)
  const index = build(segments)

  it('ranks by the segment centroid and leaves the segment itself out', () => {
    for (const s of segments.slice(0, 30)) {
      const hits = index.searchLike(s.cid, 10)
      expect(hits).toHaveLength(10)
      expect(hits.some((h) => h.cid === s.cid)).toBe(false)
      const truth = brute(
        segments.filter((x) => x.cid !== s.cid),
        s.centroid,
        10,
      )
      expect(recall(hits, truth)).toBeGreaterThanOrEqual(0.9)
      for (const plan of ['hnsw', 'exact'] as const) {
        const filtered = index.searchLike(s.cid, 5, { entity: s.entity, plan })
        expect(filtered.some((h) => h.cid === s.cid)).toBe(false)
        const want = brute(
          segments.filter((x) => x.cid !== s.cid),
          s.centroid,
          5,
          { entity: s.entity },
        )
        expect(recall(filtered, want)).toBeGreaterThanOrEqual(plan === 'exact' ? 1 : 0.8)
      }
    }
  })

  it('gives every other segment when asked for more than there are', () => {
    expect(index.searchLike('seg-8-0', 399)).toHaveLength(399)
    expect(index.searchLike('seg-8-0', 400)).toHaveLength(399)
  })
})

describe('segment index: growth and determinism', () => {
  it('doubles its HNSW past the initial capacity and still finds every segment', () => {
    const segments = makeSegments(300, 6, 6)
    const index = build(segments, { initialCapacity: 8 })
    expect(index.size).toBe(300)
    expect(index.dimensions()).toEqual([{ dim: 6, count: 300, capacity: 512 }])
    expect(index.hnsw(6)?.getMaxElements()).toBe(512)
    for (const s of segments.filter((_, i) => i % 10 === 0)) expect(index.search({ vector: s.centroid, k: 1 })[0]?.cid).toBe(s.cid)
  })

  it('builds the same graph, results and digest from the same insert order', async () => {
    const segments = makeSegments(500, 8, 9)
    const a = build(segments)
    const b = build(segments)
    expect(a.digest()).toBe(b.digest())
    for (const q of queries(10, 8, 3)) expect(a.search({ vector: q, k: 10 })).toEqual(b.search({ vector: q, k: 10 }))
    const [da, db] = [await tempDir(), await tempDir()]
    const [sa, sb] = [await a.save(da), await b.save(db)]
    expect(sa.manifestSha256).toBe(sb.manifestSha256)
    const reversed = build([...segments].reverse())
    expect(reversed.digest()).not.toBe(a.digest())
  })

  it('digests the logical content, not the graph: other build parameters, same digest', () => {
    const segments = makeSegments(200, 8, 10)
    expect(build(segments, { m: 8, efConstruction: 40, seed: 7 }).digest()).toBe(build(segments).digest())
    expect(build(segments, { space: 'cosine' }).digest()).not.toBe(build(segments).digest())
  })

  it('adds a CID once: a second add returns its label and changes nothing', () => {
    const segments = makeSegments(20, 4, 11)
    const index = build(segments)
    const digest = index.digest()
    expect(index.add({ ...(segments[3] as SegmentInput) })).toBe(3)
    expect(index.size).toBe(20)
    expect(index.digest()).toBe(digest)
  })
})

describe('segment index: checkpoints', () => {
  const segments = [...makeSegments(700, 8, 12), ...makeSegments(90, 3, 13, 2, 'tri').map((s) => ({ ...s, entity: `t${s.entity}` }))]

  async function saved(): Promise<{ index: SegmentIndex; dir: string }> {
    const index = build(segments, { initialCapacity: 64 })
    const dir = await tempDir()
    await index.save(dir)
    return { index, dir }
  }

  it('round-trips: the loaded index gives identical results and digest, and goes on from there', async () => {
    const { index, dir } = await saved()
    const files = await readdir(dir)
    expect(files.sort()).toEqual([
      expect.stringMatching(/^hnsw-3-[0-9a-f]{16}\.bin$/),
      expect.stringMatching(/^hnsw-8-[0-9a-f]{16}\.bin$/),
      'manifest.json',
      expect.stringMatching(/^meta-[0-9a-f]{16}\.bin$/),
    ])
    const loaded = await loadSegmentIndex(dir)
    expect(loaded.digest()).toBe(index.digest())
    expect(loaded.size).toBe(index.size)
    expect(loaded.dimensions()).toEqual(index.dimensions())
    const filters: SegmentFilters[] = [
      {},
      { entity: 'e4' },
      { minAnomaly: 0.3, from: T0 + 20 * HOUR, to: T0 + 90 * HOUR },
      { regime: 'r0', plan: 'hnsw' },
      { entity: 'e4', plan: 'exact' },
      { regime: 'r1', plan: 'exact' },
    ]
    for (const q of queries(20, 8, 14)) {
      for (const f of filters) expect(loaded.search({ vector: q, k: 10, ...f })).toEqual(index.search({ vector: q, k: 10, ...f }))
    }
    expect(loaded.searchLike('tri-3-5', 7)).toEqual(index.searchLike('tri-3-5', 7))
    expect(loaded.get('seg-8-42')).toEqual(index.get('seg-8-42'))

    const more = makeSegments(30, 8, 15, 5, 'more')
    for (const s of more) expect(loaded.add(s)).toBe(index.add(s))
    expect(loaded.digest()).toBe(index.digest())
    expect(loaded.search({ vector: more[0]?.centroid as number[], k: 1 })[0]?.cid).toBe('more-8-0')
    for (const f of [{ entity: more[0]?.entity as string }, { regime: 'r1' }]) {
      const q = more[1]?.centroid as number[]
      expect(loaded.search({ vector: q, k: 40, plan: 'exact', ...f })).toEqual(index.search({ vector: q, k: 40, plan: 'exact', ...f }))
    }

    // Adds before the first digest of a loaded index: it hashes the loaded labels then, and the new ones after them.
    const again = await loadSegmentIndex(dir)
    for (const s of more) again.add(s)
    expect(again.digest()).toBe(index.digest())
    // Its label lists, built at the first add (not at load), hold the loaded labels and the added ones.
    for (const entity of ['e4', more[0]?.entity as string]) {
      const q = more[2]?.centroid as number[]
      expect(again.search({ vector: q, k: 50, entity, plan: 'exact' })).toEqual(index.search({ vector: q, k: 50, entity, plan: 'exact' }))
    }

    // A second save into the same directory replaces the first, leaving no stray files.
    await loaded.save(dir)
    expect((await readdir(dir)).length).toBe(4)
    expect((await loadSegmentIndex(dir)).digest()).toBe(index.digest())
  })

  it('saves a snapshot of the moment save is called, while adds go on', async () => {
    const index = build(segments.slice(0, 400))
    const dir = await tempDir()
    const before = index.digest()
    const saving = index.save(dir)
    for (const s of segments.slice(400)) index.add(s)
    const result = await saving
    expect(result).toMatchObject({ count: 400, digest: before })
    const loaded = await loadSegmentIndex(dir)
    expect(loaded.size).toBe(400)
    expect(loaded.digest()).toBe(before)
  })

  it('ignores and then sweeps what a crashed save left behind', async () => {
    const { index, dir } = await saved()
    await writeFile(join(dir, '.segment-index-tmp-0123456789ab-hnsw-8'), 'half written')
    await writeFile(join(dir, 'meta-0123456789abcdef.bin'), 'from an older checkpoint')
    expect((await loadSegmentIndex(dir)).digest()).toBe(index.digest())
    await index.save(dir)
    expect((await readdir(dir)).filter((f) => f.startsWith('.') || f === 'meta-0123456789abcdef.bin')).toEqual([])
  })

  it('round-trips an empty index and a cosine one', async () => {
    const empty = createSegmentIndex()
    const dir = await tempDir()
    await empty.save(dir)
    const back = await loadSegmentIndex(dir)
    expect(back.size).toBe(0)
    expect(back.digest()).toBe(empty.digest())
    expect(back.add(segments[0] as SegmentInput)).toBe(0)

    const cos = build(segments.slice(0, 300), { space: 'cosine', m: 8, efSearch: 32 })
    const cdir = await tempDir()
    await cos.save(cdir)
    const loaded = await loadSegmentIndex(cdir, { efSearch: 32 })
    expect(loaded.space).toBe('cosine')
    expect(loaded.digest()).toBe(cos.digest())
    for (const q of queries(5, 8, 21)) expect(loaded.search({ vector: q, k: 5 })).toEqual(cos.search({ vector: q, k: 5 }))
  })

  it('refuses a checkpoint with a flipped byte in any file', async () => {
    const { dir } = await saved()
    for (const name of await readdir(dir)) {
      const path = join(dir, name)
      const original = await readFile(path)
      for (const at of [0, Math.floor(original.length / 2), original.length - 1]) {
        const bad = Buffer.from(original)
        bad[at] = (bad[at] as number) ^ 0x01
        await writeFile(path, bad)
        await expect(loadSegmentIndex(dir), `${name} byte ${at}`).rejects.toMatchObject({ code: 'CORRUPT_BLOCK' })
      }
      await writeFile(path, original)
    }
    // Every byte of the manifest: a flipped digit of m or of the version would parse and pass the file checks.
    const path = join(dir, 'manifest.json')
    const manifest = await readFile(path)
    for (let at = 0; at < manifest.length; at++) {
      const bad = Buffer.from(manifest)
      bad[at] = (bad[at] as number) ^ 0x01
      await writeFile(path, bad)
      await expect(loadSegmentIndex(dir), `manifest byte ${at}`).rejects.toMatchObject({
        code: expect.stringMatching(/^(CORRUPT_BLOCK|VERSION_TOO_NEW)$/),
      })
    }
    await writeFile(path, manifest)
    await expect(loadSegmentIndex(dir)).resolves.toBeDefined()
  })

  it('refuses a partial checkpoint: no manifest, a missing or truncated file, a newer version', async () => {
    const { dir } = await saved()
    const files = await readdir(dir)
    const hnsw = files.find((f) => f.startsWith('hnsw-8-')) as string
    const hnswBytes = await readFile(join(dir, hnsw))
    await writeFile(join(dir, hnsw), hnswBytes.subarray(0, hnswBytes.length - 100))
    await expect(loadSegmentIndex(dir)).rejects.toMatchObject({ code: 'CORRUPT_BLOCK', details: { file: hnsw } })
    await unlink(join(dir, hnsw))
    await expect(loadSegmentIndex(dir)).rejects.toMatchObject({ code: 'CORRUPT_BLOCK', details: { file: hnsw } })
    await writeFile(join(dir, hnsw), hnswBytes)

    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>
    const resealed = (body: Record<string, unknown>): string => {
      const { check: _, ...rest } = body
      return JSON.stringify({ ...rest, check: createHash('sha256').update(JSON.stringify(rest)).digest('hex') })
    }
    await writeFile(join(dir, 'manifest.json'), resealed({ ...manifest, version: 3 }))
    await expect(loadSegmentIndex(dir)).rejects.toMatchObject({ code: 'VERSION_TOO_NEW' })
    await writeFile(join(dir, 'manifest.json'), resealed({ ...manifest, version: 1 }))
    await expect(loadSegmentIndex(dir)).rejects.toMatchObject({ code: 'CORRUPT_BLOCK', message: expect.stringMatching(/older format/) })
    // A manifest that checks out but whose digest is not the one the metadata was saved with.
    await writeFile(join(dir, 'manifest.json'), resealed({ ...manifest, digest: createHash('sha256').digest('hex') }))
    await expect(loadSegmentIndex(dir)).rejects.toMatchObject({ code: 'CORRUPT_BLOCK', message: expect.stringMatching(/digest/) })
    await writeFile(join(dir, 'manifest.json'), resealed(manifest))
    await expect(loadSegmentIndex(dir)).resolves.toBeDefined()
    // The manifest an outer checkpoint recorded, or another one.
    const sha = createHash('sha256')
      .update(await readFile(join(dir, 'manifest.json')))
      .digest('hex')
    await expect(loadSegmentIndex(dir, { manifestSha256: sha })).resolves.toBeDefined()
    await expect(loadSegmentIndex(dir, { manifestSha256: createHash('sha256').digest('hex') })).rejects.toMatchObject({
      code: 'CORRUPT_BLOCK',
      message: expect.stringMatching(/outer checkpoint/),
    })
    await writeFile(join(dir, 'manifest.json'), '{"format":"vsdb-segment-index",')
    await expect(loadSegmentIndex(dir)).rejects.toMatchObject({ code: 'CORRUPT_BLOCK', details: { file: 'manifest.json' } })
    await unlink(join(dir, 'manifest.json'))
    await expect(loadSegmentIndex(dir)).rejects.toMatchObject({ code: 'NOT_FOUND', details: { field: 'checkpoint' } })
    await expect(loadSegmentIndex(join(dir, 'nowhere'))).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })
})

describe('segment index: bad input', () => {
  const segments = makeSegments(100, 4, 16)
  const index = build(segments)
  const v = [0, 0, 0, 0]

  function fails(fn: () => unknown, code: string, field: string): void {
    expect(fn).toThrow(expect.objectContaining({ name: 'VsdbError', code, details: expect.objectContaining({ field }) }))
  }

  it('k: not a positive integer or above 10,000 is refused; above the segments there are gives them all', () => {
    for (const k of [0, -1, 1.5, Number.NaN, '3' as unknown as number]) fails(() => index.search({ vector: v, k }), 'INVALID_INPUT', 'k')
    fails(() => index.search({ vector: v, k: 10_001 }), 'INVALID_INPUT', 'k')
    expect(index.search({ vector: v, k: 101 })).toHaveLength(100)
    expect(index.search({ vector: v, k: 100 })).toHaveLength(100)
  })

  it('vectors: NaN, Infinity, strings, holes, wrong dimension, beyond float32', () => {
    fails(() => index.search({ vector: [0, Number.NaN, 0, 0], k: 1 }), 'INVALID_INPUT', 'vector')
    fails(() => index.search({ vector: [0, 0, Number.POSITIVE_INFINITY, 0], k: 1 }), 'INVALID_INPUT', 'vector')
    fails(() => index.search({ vector: [0, '1', 0, 0] as unknown as number[], k: 1 }), 'INVALID_INPUT', 'vector')
    fails(() => index.search({ vector: [0, 0, 1e39, 0], k: 1 }), 'INVALID_INPUT', 'vector')
    fails(() => index.search({ vector: new Array(4) as number[], k: 1 }), 'INVALID_INPUT', 'vector')
    fails(() => index.search({ vector: Float64Array.from(v) as unknown as number[], k: 1 }), 'INVALID_INPUT', 'vector')
    fails(() => index.search({ vector: [], k: 1 }), 'INVALID_INPUT', 'vector')
    fails(() => index.search({ vector: [1, 2, 3], k: 1 }), 'INVALID_INPUT', 'vector')
    expect(() => index.search({ vector: [0, Number.NaN, 0, 0], k: 1 })).toThrow(/vector\[1\]/)
    fails(() => createSegmentIndex().search({ vector: v, k: 1 }), 'INVALID_INPUT', 'vector')
  })

  it('filters: unknown entity or regime, reversed or non-finite times, anomaly out of range, unknown plan', () => {
    fails(() => index.search({ vector: v, k: 1, entity: 'nobody' }), 'NOT_FOUND', 'entity')
    fails(() => index.search({ vector: v, k: 1, regime: 'nowhere' }), 'NOT_FOUND', 'regime')
    fails(() => index.search({ vector: v, k: 1, from: 10, to: 5 }), 'INVALID_INPUT', 'from')
    fails(() => index.search({ vector: v, k: 1, to: Number.NaN }), 'INVALID_INPUT', 'to')
    fails(() => index.search({ vector: v, k: 1, minAnomaly: 2 }), 'INVALID_INPUT', 'minAnomaly')
    fails(() => index.search({ vector: v, k: 1, plan: 'fast' as 'auto' }), 'INVALID_INPUT', 'plan')
    fails(() => index.searchLike('no-such-cid', 3), 'NOT_FOUND', 'cid')
    const other = build([...segments, ...makeSegments(10, 6, 17, 1, 'six').map((s) => ({ ...s, entity: 'six' }))])
    fails(() => other.search({ vector: v, k: 1, entity: 'six' }), 'INVALID_INPUT', 'vector')
    fails(() => other.searchLike('seg-4-0', 1, { entity: 'six' }), 'INVALID_INPUT', 'entity')
  })

  it('segments: bad fields are refused naming the field, and nothing is half-added', () => {
    const target = build(segments.slice(0, 10))
    const digest = target.digest()
    const good = segments[50] as SegmentInput
    const bad: [Partial<SegmentInput> | Record<string, unknown>, string][] = [
      [{ centroid: [0, Number.NaN, 0, 0] }, 'centroid'],
      [{ centroid: [] }, 'centroid'],
      [{ centroid: [1, 2, 3] }, 'centroid'], // e0 has dimension 4
      [{ anomaly: 1.5 }, 'anomaly'],
      [{ from: good.to + 1 }, 'from'],
      [{ to: Number.POSITIVE_INFINITY }, 'to'],
      [{ cid: '' }, 'cid'],
      [{ entity: 42 }, 'entity'],
      [{ regime: undefined }, 'regime'],
    ]
    for (const [patch, field] of bad) fails(() => target.add({ ...good, ...patch } as SegmentInput), 'INVALID_INPUT', field)
    expect(target.size).toBe(10)
    expect(target.digest()).toBe(digest)
    fails(() => createSegmentIndex({ m: 0 }), 'INVALID_INPUT', 'm')
    fails(() => createSegmentIndex({ space: 'ip' as 'l2' }), 'INVALID_INPUT', 'space')
  })
})

/**
 * What the ingest speed-ups must not change: the segmenter's reused buffers (segments longer than they start,
 * late rows in the middle, state() between seals), the scorer's observeInto beside observe, and a read that only
 * validates (the same errors and dimensions, no rows).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { VsdbError } from '@vsdb/log'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAnomalyScorer } from '../src/anomaly/index.ts'
import { MAX_SCALED } from '../src/codec/decimal.ts'
import { entropyBits } from '../src/codec/entropy.ts'
import { chooseGridShift } from '../src/codec/grid-shift.ts'
import { median } from '../src/codec/predict.ts'
import { OFFSETS, quantizeScaled, reconstructValue } from '../src/codec/quantize.ts'
import { readObservations } from '../src/observations/index.ts'
import { DEFAULT_SEGMENTER_CONFIG, EntitySegmenter, type SealedSegment } from '../src/segmenter.ts'
import { seeded } from './seeded.ts'
import { stubParts } from './stub-parts.ts'

const NOW = Date.UTC(2025, 0, 1)

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vsdb-ingest-perf-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('segmenter buffers', () => {
  it('seal long segments of shuffled rows in time order (late rows after equal times), every row once, state() included', () => {
    const rand = seeded(7)
    const config = { ...DEFAULT_SEGMENTER_CONFIG, maxCount: 300 }
    const parts = stubParts(() => false, { resumable: true })
    const model = parts.forEntity('e', 2)
    const s = new EntitySegmenter('e', 2, config, model)
    const rows: { ts: number; vector: number[] }[] = []
    for (let i = 0; i < 1000; i++) {
      // Mostly in order, now and then late (possibly equal to an earlier time).
      const ts = rand() < 0.2 ? Math.max(0, i * 10 - Math.floor(rand() * 400)) : i * 10
      rows.push({ ts, vector: [i, -i / 2 - 1] })
    }
    const sealed: SealedSegment[] = []
    let restarted: EntitySegmenter | undefined
    for (const [i, row] of rows.entries()) {
      s.push({ entity: 'e', ...row }, sealed)
      if (i === 450) restarted = new EntitySegmenter('e', 2, config, parts.forEntity('e', 2, model.snapshot?.()), s.state())
      else if (restarted !== undefined) restarted.push({ entity: 'e', ...row }, [])
    }
    expect(sealed.map((x) => x.payload.count)).toEqual([300, 300, 300])
    let start = 0
    for (const segment of sealed) {
      const { ts, vectors } = stubParts().decode('test-cbor', segment.block.bytes)
      // The rows of this segment (arrival order), placed by time with late rows after the equal times before them.
      const expected: { ts: number; vector: number[] }[] = []
      for (const row of rows.slice(start, start + 300)) {
        let at = expected.length
        while (at > 0 && (expected[at - 1] as { ts: number }).ts > row.ts) at--
        expected.splice(at, 0, row)
      }
      expect(ts).toEqual(expected.map((r) => r.ts))
      expect(vectors).toEqual(expected.map((r) => r.vector))
      expect(segment.payload.from).toBe(ts[0])
      expect(segment.payload.to).toBe(ts.at(-1))
      start += 300
    }
    expect(s.open).toBe(100)
    expect(restarted?.open).toBe(100)
    expect(restarted?.state()).toEqual(s.state())
  })
})

describe('quantisation', () => {
  /** The quantiser as it was written first (Math.round of x / step each time): what quantizeScaled must equal. */
  function reference(column: Float64Array, e: number, step: number, offset: number, q: Float64Array): boolean {
    const shift = offset / OFFSETS
    for (let i = 0; i < column.length; i++) {
      const x = column[i] as number
      let qi = Math.round(x / step - shift) + 0
      if (!(qi <= MAX_SCALED && qi >= -MAX_SCALED)) return false
      if (!(Math.abs(x - reconstructValue(qi, offset, step)) <= e)) {
        if (Math.abs(x - reconstructValue(qi - 1, offset, step)) <= e) qi -= 1
        else if (Math.abs(x - reconstructValue(qi + 1, offset, step)) <= e) qi += 1
        else return false
      }
      q[i] = qi
    }
    return true
  }

  it('gives the indices of the first quantiser, halves and huge values included', () => {
    const rand = seeded(11)
    for (let k = 0; k < 1000; k++) {
      const step = 2 ** Math.floor(rand() * 40 - 20) * (1 + Math.floor(rand() * 256) / 256)
      const e = step / 2
      const n = 64
      const column = new Float64Array(n)
      for (let i = 0; i < n; i++) {
        const kind = rand()
        // Exact half steps, values just around them, ordinary values, and values near 2^50 steps.
        if (kind < 0.3) column[i] = (Math.floor((rand() - 0.5) * 2000) + 0.5) * step
        else if (kind < 0.5) column[i] = (Math.floor((rand() - 0.5) * 2000) + 0.5) * step * (1 + (rand() - 0.5) * 1e-15)
        else if (kind < 0.95) column[i] = (rand() - 0.5) * 1e4 * step
        else column[i] = (rand() < 0.5 ? -1 : 1) * 2 ** (49 + rand() * 3) * step
      }
      const scaled = column.map((x) => x / step)
      for (let offset = 0; offset < OFFSETS; offset++) {
        const a = new Float64Array(n)
        const b = new Float64Array(n)
        const ok = reference(column, e, step, offset, a)
        expect(quantizeScaled(column, scaled, e, step, offset, b)).toBe(ok)
        if (ok) for (let i = 0; i < n; i++) expect(Object.is(a[i], b[i])).toBe(true)
      }
    }
  })
})

describe('grid shift', () => {
  /** The search as it was written first: every shift quantised value by value, then its entropy estimate. */
  function reference(column: Float64Array, e: number, step: number): { offset: number; q: Float64Array | null } {
    const n = column.length
    const scaled = column.map((x) => x / step)
    const middle = median(column)
    let best: { offset: number; q: Float64Array | null } = { offset: -1, q: null }
    let least = Number.POSITIVE_INFINITY
    for (let offset = 0; offset < OFFSETS; offset++) {
      const q = new Float64Array(n)
      if (!quantizeScaled(column, scaled, e, step, offset, q)) continue
      const center = Math.round(middle / step - offset / OFFSETS)
      const deltas = q.map((x, i) => (i === 0 ? 0 : x - (q[i - 1] as number)))
      const h = Math.min(
        entropyBits(deltas, 1, n),
        entropyBits(
          q.map((x) => x - center),
          0,
          n,
        ),
      )
      if (h < least) {
        least = h
        best = { offset, q }
      }
    }
    return best
  }

  it('picks the shift and the indices of the value-by-value search, on and near index boundaries too', () => {
    const rand = seeded(5)
    for (let k = 0; k < 800; k++) {
      const step = 2 ** Math.floor(rand() * 30 - 15) * (1 + Math.floor(rand() * 256) / 256)
      // Mostly the bound the step was made for; now and then one the float resolution of large values misses.
      const e = rand() < 0.9 ? step / 2 : step * 1e-9
      const n = 1 + Math.floor(rand() * 300)
      // Plain decimals (every index by the integer path), with or without jumps past quickBits' escape;
      // integers (on eighths of many steps); or a mix with values on and near boundaries, and huge ones.
      const kind = rand()
      const jumps = rand() < 0.3 ? 0.02 : 0
      const column = new Float64Array(n)
      let level = (rand() - 0.5) * 1e3
      for (let i = 0; i < n; i++) {
        level += Math.floor((rand() - 0.5) * 6) + (rand() < jumps ? 50 + Math.floor(rand() * 30) : 0)
        const at = rand()
        if (kind < 0.5) column[i] = Math.round((level + rand()) * step * 1000) / 1000
        else if (kind < 0.65) column[i] = Math.round(level)
        else if (at < 0.1) column[i] = (Math.round(level * 8) / 8) * step
        else if (at < 0.2) column[i] = (Math.round(level * 8) / 8) * step * (1 + (rand() - 0.5) * 2 ** -50)
        else if (at < 0.22) column[i] = (rand() < 0.5 ? -1 : 1) * 2 ** (20 + rand() * 12) * step
        else column[i] = Math.round((level + rand()) * step * 1000) / 1000
      }
      const want = reference(column, e, step)
      const q = new Float64Array(n)
      expect(chooseGridShift(column, e, step, q)).toBe(want.offset)
      if (want.q !== null) for (let i = 0; i < n; i++) expect(Object.is(q[i], want.q[i])).toBe(true)
    }
  })
})

describe('anomaly scorer', () => {
  it('observeInto gives the score and change flag observe gives, from the same state', () => {
    const rand = seeded(3)
    const a = createAnomalyScorer()
    const b = createAnomalyScorer()
    const into = { score: 0, change: false }
    for (let i = 0; i < 3000; i++) {
      const ts = 1_700_000_000_000 + i * 60_000
      const vector = [Math.sin(i / 50) * 10 + rand(), i > 2000 ? 40 + rand() : rand()]
      const o = a.observe(ts, vector)
      b.observeInto(ts, vector, into)
      expect(into.score).toBe(o.score)
      expect(into.change).toBe(o.change)
    }
    expect(b.snapshot()).toEqual(a.snapshot())
  })
})

describe('validating reads', () => {
  async function outcome(path: string, validateOnly: boolean): Promise<{ rows: number; dims: [string, number][]; error?: string }> {
    const knownDimensions = new Map<string, number>()
    let rows = 0
    try {
      for await (const batch of readObservations({ path, now: NOW, validateOnly, knownDimensions })) rows += batch.length
    } catch (err) {
      if (!(err instanceof VsdbError)) throw err
      return { rows: 0, dims: [], error: err.message }
    }
    return { rows, dims: [...knownDimensions] }
  }

  it('check CSV and JSONL rows as a read does, and yield none', async () => {
    const cases: [string, string][] = [
      ['ok.csv', 'timestamp,a,b\n2014-04-02T14:29:00Z,1,2\n2014-04-02T14:30:00Z,3,4\n'],
      ['bad.csv', 'timestamp,a\n2014-04-02T14:29:00Z,1\n2014-04-02T14:30:00Z,x\n'],
      ['ok.jsonl', '{"entity":"e","ts":1,"vector":[1,2]}\n{"entity":"f","ts":2,"vector":[3]}\n'],
      ['bad.jsonl', '{"entity":"e","ts":1,"vector":[1,2]}\n{"entity":"e","ts":2,"vector":[3]}\n'],
    ]
    for (const [name, content] of cases) {
      const path = join(dir, name)
      await writeFile(path, content)
      const read = await outcome(path, false)
      const checked = await outcome(path, true)
      expect(checked.error).toBe(read.error)
      expect(checked.dims).toEqual(read.dims)
      expect(checked.rows).toBe(0)
    }
  })
})

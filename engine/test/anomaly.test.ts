import { describe, expect, it } from 'vitest'
import {
  type AnomalyObservation,
  createAnomalyScorer,
  createRegimeTracker,
  DEFAULT_ALERT_THRESHOLD,
  restoreAnomalyScorer,
  restoreRegimeTracker,
  segmentFeatures,
} from '../src/anomaly/index.ts'
import { seeded } from './seeded.ts'

const T0 = Date.UTC(2024, 0, 1)
const MIN5 = 300_000

interface Stream {
  ts: number[]
  vectors: number[][]
}

/** 5-minute samples with a daily rhythm and noise in every dimension; optional spike and level shift. */
function stream(n: number, dim = 1, seed = 1, events: { spikeAt?: number; shiftAt?: number } = {}): Stream {
  const rand = seeded(seed)
  const ts: number[] = []
  const vectors: number[][] = []
  for (let i = 0; i < n; i++) {
    const t = T0 + i * MIN5
    ts.push(t)
    const day = Math.sin((2 * Math.PI * (t % 86_400_000)) / 86_400_000)
    const v: number[] = []
    for (let d = 0; d < dim; d++) {
      let x = 50 + 10 * day + 2 * (rand() - 0.5) + d
      if (events.shiftAt !== undefined && i >= events.shiftAt && d === 0) x += 15
      if (events.spikeAt === i && d === 0) x += 40
      v.push(x)
    }
    vectors.push(v)
  }
  return { ts, vectors }
}

function scoreAll(s: Stream, from = 0, to = s.ts.length, scorer = createAnomalyScorer()): number[] {
  const out: number[] = []
  for (let i = from; i < to; i++) out.push(scorer.score(s.ts[i] as number, s.vectors[i] as number[]))
  return out
}

describe('anomaly scorer', () => {
  it('scores every observation in [0, 1], never NaN, across awkward streams', () => {
    const rand = seeded(9)
    const streams: Stream[] = [
      stream(3000, 1, 2, { spikeAt: 2000, shiftAt: 2500 }),
      { ts: Array.from({ length: 500 }, (_, i) => T0 + i * 1000), vectors: Array.from({ length: 500 }, () => [7]) }, // constant
      { ts: Array.from({ length: 500 }, (_, i) => T0 + i * 1000), vectors: Array.from({ length: 500 }, (_, i) => [i === 300 ? 8 : 7]) },
      { ts: Array.from({ length: 800 }, (_, i) => T0 + i), vectors: Array.from({ length: 800 }, () => [1e-12 * rand(), 1e12 * rand()]) },
      // irregular, out-of-order and duplicate timestamps, negative values
      {
        ts: Array.from({ length: 800 }, (_, i) => T0 + i * 60_000 + (i % 7 === 0 ? -500_000 : 0)),
        vectors: Array.from({ length: 800 }, () => [-100 * rand()]),
      },
    ]
    for (const s of streams) {
      for (const x of scoreAll(s)) {
        expect(Number.isNaN(x)).toBe(false)
        expect(x).toBeGreaterThanOrEqual(0)
        expect(x).toBeLessThanOrEqual(1)
      }
    }
  })

  it('is deterministic: the same stream gives the same scores, bit for bit', () => {
    const s = stream(5000, 3, 4, { spikeAt: 3000, shiftAt: 4000 })
    const a = scoreAll(s)
    const b = scoreAll(s)
    expect(a.every((x, i) => Object.is(x, b[i]))).toBe(true)
  })

  it('never looks ahead: the scores of a prefix do not change when more data follows', () => {
    const long = stream(4000, 2, 5, { spikeAt: 3500 })
    const prefix: Stream = { ts: long.ts.slice(0, 1500), vectors: long.vectors.slice(0, 1500) }
    const a = scoreAll(prefix)
    const b = scoreAll(long).slice(0, 1500)
    expect(a.every((x, i) => Object.is(x, b[i]))).toBe(true)
  })

  it('continues identically from a snapshot, through JSON', () => {
    const s = stream(6000, 2, 6, { spikeAt: 4500, shiftAt: 5000 })
    const a = createAnomalyScorer()
    scoreAll(s, 0, 2500, a)
    const json = JSON.stringify(a.snapshot())
    const state = JSON.parse(json) as unknown
    expect(state).toEqual(a.snapshot()) // plain data: survives JSON unchanged
    const b = restoreAnomalyScorer(state)
    expect(b.count).toBe(2500)
    expect(b.dimension).toBe(2)
    const rest = (sc: ReturnType<typeof createAnomalyScorer>): AnomalyObservation[] => {
      const out: AnomalyObservation[] = []
      for (let i = 2500; i < s.ts.length; i++) out.push(sc.observe(s.ts[i] as number, s.vectors[i] as number[]))
      return out
    }
    expect(rest(b)).toEqual(rest(a))
    expect(JSON.stringify(b.snapshot())).toBe(JSON.stringify(a.snapshot()))
  })

  it('scores a spike above the baseline, and alerts on it', () => {
    const s = stream(3000, 1, 7, { spikeAt: 2600 })
    const scorer = createAnomalyScorer()
    const obs: AnomalyObservation[] = []
    for (let i = 0; i < s.ts.length; i++) obs.push(scorer.observe(s.ts[i] as number, s.vectors[i] as number[]))
    const spike = obs[2600] as AnomalyObservation
    expect(spike.score).toBeGreaterThanOrEqual(DEFAULT_ALERT_THRESHOLD)
    expect(spike.alert).toBe(true)
    const before = obs.slice(2000, 2600).map((o) => o.score)
    expect(spike.score).toBeGreaterThan(Math.max(...before))
    expect(before.every((x) => x < DEFAULT_ALERT_THRESHOLD)).toBe(true)
  })

  it('finds a spike in one dimension of many, and names it', () => {
    const s = stream(2500, 16, 8)
    ;(s.vectors[2200] as number[])[11] = 500
    const scorer = createAnomalyScorer()
    let hit: AnomalyObservation | undefined
    for (let i = 0; i < s.ts.length; i++) {
      const r = scorer.observe(s.ts[i] as number, s.vectors[i] as number[])
      if (i === 2200) hit = r
    }
    expect(hit?.alert).toBe(true)
    expect(hit?.dim).toBe(11)
  })

  it('rests after an alert: one event, one alert', () => {
    const s = stream(3000, 1, 10, { shiftAt: 2000 })
    for (let i = 2000; i < 2010; i++) (s.vectors[i] as number[])[0] = 500 // a burst of ten outliers
    const scorer = createAnomalyScorer()
    const alerts: number[] = []
    for (let i = 0; i < s.ts.length; i++) if (scorer.observe(s.ts[i] as number, s.vectors[i] as number[]).alert) alerts.push(i)
    expect(alerts.filter((i) => i >= 2000 && i < 2200)).toEqual([2000])
  })

  it('signals a change point after a sustained level shift', () => {
    const s = stream(4000, 1, 11, { shiftAt: 3000 })
    const scorer = createAnomalyScorer()
    const changes: number[] = []
    for (let i = 0; i < s.ts.length; i++) if (scorer.observe(s.ts[i] as number, s.vectors[i] as number[]).change) changes.push(i)
    expect(changes.some((i) => i >= 3000 && i < 3050)).toBe(true)
  })

  it('keeps its state bounded', () => {
    const s = stream(40_000, 4, 12)
    const scorer = createAnomalyScorer()
    scoreAll(s, 0, 1000, scorer)
    const early = JSON.stringify(scorer.snapshot()).length
    scoreAll(s, 1000, s.ts.length, scorer)
    const late = JSON.stringify(scorer.snapshot()).length
    expect(late).toBeLessThan(early * 1.5)
    expect(late).toBeLessThan(8 * 1024)
  })

  it('rejects bad input with a clear error', () => {
    const scorer = createAnomalyScorer()
    scorer.score(T0, [1, 2])
    expect(() => scorer.score(T0 + 1, [1])).toThrow(/dimension 1, this entity has 2/)
    expect(() => scorer.score(Number.NaN, [1, 2])).toThrow(/timestamp/)
    expect(() => createAnomalyScorer({ rest: -1 })).toThrow(/"rest"/)
    expect(() => createAnomalyScorer({ bogus: 1 } as never)).toThrow(/unknown field "bogus"/)
    expect(() => restoreAnomalyScorer({ ...scorer.snapshot(), dims: [1, 2, 3] })).toThrow(/"dims"/)
    expect(() => restoreAnomalyScorer({ ...scorer.snapshot(), count: -1 })).toThrow(/"count"/)
    expect(() => restoreAnomalyScorer('nonsense')).toThrow(/anomaly state/)
  })

  it('treats a non-finite component as missing: scores the rest, learns nothing from it', () => {
    const s = stream(600, 2, 13)
    const a = createAnomalyScorer()
    for (let i = 0; i < s.ts.length; i++) {
      const v = (s.vectors[i] as number[]).slice()
      if (i % 10 === 0) v[1] = Number.NaN
      const x = a.score(s.ts[i] as number, v)
      expect(x >= 0 && x <= 1).toBe(true)
    }
  })
})

describe('segment features and regimes', () => {
  it('describes a segment by mean, std and slope per dimension, plus anomaly level', () => {
    const ts = [0, 3_600_000, 7_200_000, 10_800_000]
    const vectors = [
      [1, 5],
      [2, 5],
      [3, 5],
      [4, 5],
    ]
    const f = segmentFeatures(ts, vectors, [0, 0.2, 0.4, 0.2])
    expect(f).toHaveLength(8)
    expect(f[0]).toBeCloseTo(2.5)
    expect(f[1]).toBeCloseTo(Math.sqrt(1.25))
    expect(f[2]).toBeCloseTo(1) // one unit per hour
    expect(f.slice(3, 6)).toEqual([5, 0, 0])
    expect(f[6]).toBeCloseTo(0.2)
    expect(f[7]).toBeCloseTo(0.4)
    expect(() => segmentFeatures([], [])).toThrow(/no observations/)
  })

  it('labels segments of the same behaviour alike and new behaviour anew, stably and deterministically', () => {
    const rand = seeded(21)
    const quiet = (): number[] => [10 + rand(), 1 + 0.1 * rand(), 0.01 * (rand() - 0.5)]
    const busy = (): number[] => [30 + rand(), 5 + 0.1 * rand(), 0.01 * (rand() - 0.5)]
    const feats: number[][] = []
    for (let i = 0; i < 20; i++) feats.push(quiet())
    for (let i = 0; i < 20; i++) feats.push(busy())
    for (let i = 0; i < 20; i++) feats.push(i % 2 === 0 ? quiet() : busy())
    const run = (): string[] => {
      const tracker = createRegimeTracker()
      return feats.map((f) => tracker.label(f))
    }
    const labels = run()
    expect(labels.slice(0, 20).every((l) => l === 'r0')).toBe(true)
    expect(labels.slice(20, 40).every((l) => l === 'r1')).toBe(true)
    expect(labels.slice(40)).toEqual(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 'r0' : 'r1')))
    expect(run()).toEqual(labels)
  })

  it('continues identically from a snapshot', () => {
    const rand = seeded(22)
    const feats = Array.from({ length: 60 }, (_, i) => [(i % 3) * 10 + rand(), rand(), rand()])
    const a = createRegimeTracker({ radius: 1 })
    for (const f of feats.slice(0, 30)) a.label(f)
    const b = restoreRegimeTracker(JSON.parse(JSON.stringify(a.snapshot())))
    expect(feats.slice(30).map((f) => b.label(f))).toEqual(feats.slice(30).map((f) => a.label(f)))
    expect(() => b.label([1, 2])).toThrow(/2 features, this entity has 3/)
    expect(() => restoreRegimeTracker({ ...a.snapshot(), mean: [1] })).toThrow(/inconsistent/)
  })
})

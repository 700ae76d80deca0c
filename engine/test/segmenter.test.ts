import { describe, expect, it } from 'vitest'
import { DEFAULT_SEGMENTER_CONFIG, EntitySegmenter, type SealedSegment } from '../src/segmenter.ts'
import { stubParts } from './stub-parts.ts'

const HOUR = 3_600_000

function segmenter(config: Partial<typeof DEFAULT_SEGMENTER_CONFIG> = {}, changeAt?: (ts: number) => boolean) {
  return new EntitySegmenter('e', 1, { ...DEFAULT_SEGMENTER_CONFIG, ...config }, stubParts(changeAt).forEntity('e', 1))
}

function feed(s: EntitySegmenter, points: [number, number][]): SealedSegment[] {
  const sealed: SealedSegment[] = []
  for (const [ts, x] of points) s.push({ entity: 'e', ts, vector: [x] }, sealed)
  return sealed
}

describe('segmenter', () => {
  it('seals by count, recording how far in arrival order each segment reaches', () => {
    const s = segmenter({ maxCount: 256 })
    const sealed = feed(
      s,
      Array.from({ length: 600 }, (_, i) => [i * 1000, Math.sin(i / 10)]),
    )
    expect(sealed.map((x) => [x.payload.count, x.payload.through])).toEqual([
      [256, 256],
      [256, 512],
    ])
    expect(s.open).toBe(88)
    expect(sealed[1]?.payload).toMatchObject({ from: 256_000, to: 511_000, entity: 'e' })
  })

  it('seals by time window before the observation that falls outside it', () => {
    const s = segmenter({ windowMs: 24 * HOUR })
    const sealed = feed(
      s,
      Array.from({ length: 50 }, (_, i) => [i * HOUR, i]),
    )
    expect(sealed.map((x) => x.payload.count)).toEqual([24, 24])
    expect(sealed[0]?.payload.to).toBe(23 * HOUR)
  })

  it('seals at a change of regime, and not when told not to', () => {
    const points = Array.from({ length: 200 }, (_, i): [number, number] => [i, i])
    expect(
      feed(
        segmenter({}, (ts) => ts === 120),
        points,
      ).map((x) => x.payload.count),
    ).toEqual([120])
    expect(
      feed(
        segmenter({ sealOnRegimeChange: false }, (ts) => ts === 120),
        points,
      ),
    ).toEqual([])
  })

  it('keeps late and duplicate timestamps, in time order', () => {
    const s = segmenter({ maxCount: 6 })
    const [segment] = feed(s, [
      [10, 1],
      [30, 3],
      [20, 2],
      [30, 4],
      [5, 0],
      [40, 5],
    ])
    expect(segment?.payload).toMatchObject({ from: 5, to: 40, count: 6 })
    const decoded = stubParts().decode('test-cbor', segment!.block.bytes)
    expect(decoded.ts).toEqual([5, 10, 20, 30, 30, 40])
    expect(decoded.vectors.map((v) => v[0])).toEqual([0, 1, 2, 3, 4, 5])
  })

  it('summarises a segment: centroid, bounds, anomaly, alerts with their times, error bound from the range', () => {
    const s = segmenter({ maxCount: 5, alertThreshold: 0.9, errorFraction: 0.01 })
    const [segment] = feed(s, [
      [1, 10],
      [2, 10],
      [3, 10],
      [4, 110],
      [5, 10],
    ])
    const p = segment!.payload
    expect(p.centroid).toEqual([30])
    expect([p.min, p.max]).toEqual([[10], [110]])
    expect(p.alerts.map((a) => a.ts)).toContain(4)
    expect(p.alerts.map((a) => a.ts)).not.toContain(2)
    expect(p.alerts.every((a) => a.score >= 0.9)).toBe(true)
    expect(p.anomaly).toBe(Math.max(...p.alerts.map((a) => a.score)))
    expect(p.errorBound).toEqual([1])
    expect(p.regime).toBe('wild')
    expect(p.data.equals(segment!.block.cid)).toBe(true)
  })

  it('carries its open segment through state() into a new segmenter', () => {
    const a = segmenter({ maxCount: 10 })
    feed(
      a,
      Array.from({ length: 7 }, (_, i): [number, number] => [i, i]),
    )
    const b = new EntitySegmenter('e', 1, { ...DEFAULT_SEGMENTER_CONFIG, maxCount: 10 }, stubParts().forEntity('e', 1), a.state())
    const [fromA] = feed(a, [
      [7, 7],
      [8, 8],
      [9, 9],
    ])
    const [fromB] = feed(b, [
      [7, 7],
      [8, 8],
      [9, 9],
    ])
    expect(fromB?.payload.through).toBe(10)
    expect(Buffer.from(fromB!.block.bytes).equals(fromA!.block.bytes)).toBe(true)
  })
})

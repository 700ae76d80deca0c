import { downsample, lowerBound } from './downsample.ts'

/** At most this many buckets per chart: two points each, so a few thousand points whatever the length. */
export const MAX_BUCKETS = 2_000
/** Entities with more dimensions than this draw only the first. */
export const MAX_DIMS = 3

export interface ChartSeries {
  /** x (seconds, as uPlot's time scale wants), one array per drawn dimension, then the alert markers (null where none). */
  data: [number[], ...(number | null)[][]]
  dims: number
  drawn: number
  total: number
  alerts: number
}

/**
 * The arrays a chart draws from an entity's observations (ascending by time) and its alert timestamps. Long series
 * are downsampled on the first dimension; an alert's observation is always kept and marked with its value.
 */
export function chartSeries(rows: readonly { ts: number; vector: number[] }[], alertTimes: readonly number[]): ChartSeries {
  const times = rows.map((r) => r.ts)
  const first = rows.map((r) => r.vector[0] ?? 0)
  const alertIndex = new Set<number>()
  for (const ts of alertTimes) {
    const i = lowerBound(times, ts)
    if (times[i] === ts) alertIndex.add(i)
  }
  const picked = downsample(first, MAX_BUCKETS, alertIndex)
  const dimCount = rows[0]?.vector.length ?? 1
  const dims = dimCount <= MAX_DIMS ? dimCount : 1
  const x = picked.map((i) => (times[i] as number) / 1000)
  const ys = Array.from({ length: dims }, (_, d) => picked.map((i) => rows[i]?.vector[d] ?? null))
  const marks = picked.map((i) => (alertIndex.has(i) ? (first[i] as number) : null))
  return { data: [x, ...ys, marks], dims, drawn: picked.length, total: rows.length, alerts: alertIndex.size }
}

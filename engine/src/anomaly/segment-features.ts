/**
 * What a segment's behaviour looks like, as one fixed-length vector for the regime tracker: per dimension its
 * mean, standard deviation and least-squares slope (value units per hour), then, when the observations' anomaly
 * scores are given, their mean and maximum. Units do not matter: the tracker normalises each feature per entity.
 */

const HOUR_MS = 3_600_000

export function segmentFeatures(ts: readonly number[], vectors: readonly (readonly number[])[], scores?: readonly number[]): number[] {
  const n = vectors.length
  if (n === 0) throw new Error('segmentFeatures: no observations')
  if (ts.length !== n) throw new Error(`segmentFeatures: ${ts.length} timestamps for ${n} vectors`)
  if (scores !== undefined && scores.length !== n) throw new Error(`segmentFeatures: ${scores.length} scores for ${n} vectors`)
  const dim = (vectors[0] as readonly number[]).length
  const t0 = ts[0] as number
  let tMean = 0
  for (let i = 0; i < n; i++) tMean += ((ts[i] as number) - t0) / HOUR_MS
  tMean /= n
  let tVar = 0
  for (let i = 0; i < n; i++) {
    const dt = ((ts[i] as number) - t0) / HOUR_MS - tMean
    tVar += dt * dt
  }
  const out: number[] = []
  for (let d = 0; d < dim; d++) {
    let mean = 0
    for (let i = 0; i < n; i++) {
      const v = vectors[i] as readonly number[]
      if (v.length !== dim) throw new Error(`segmentFeatures: vector ${i} has dimension ${v.length}, the first has ${dim}`)
      mean += v[d] as number
    }
    mean /= n
    let sq = 0
    let cov = 0
    for (let i = 0; i < n; i++) {
      const e = ((vectors[i] as readonly number[])[d] as number) - mean
      sq += e * e
      cov += e * (((ts[i] as number) - t0) / HOUR_MS - tMean)
    }
    out.push(mean, Math.sqrt(sq / n), tVar > 0 ? cov / tVar : 0)
  }
  if (scores !== undefined) {
    let sum = 0
    let max = 0
    for (const s of scores) {
      sum += s
      if (s > max) max = s
    }
    out.push(sum / n, max)
  }
  return out
}

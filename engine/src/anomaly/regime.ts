/**
 * Regime labels per segment: a deterministic online leader clustering of segment behaviour (the vectors of
 * `segmentFeatures`), per entity.
 *
 * The yardstick is per entity and per feature: how far segments of one regime lie from its centroid. The first
 * `warmup` segments all found-or-join `r0` and set it (their standard deviation per feature); from then on it
 * follows the members' mean absolute deviation from their centroid (× 1.25 ≈ σ, weight 0.05 each), never less
 * than 1 % of the feature's mean magnitude. A segment
 * joins the nearest regime when its root-mean-square distance to that regime's centroid, in yardsticks, is
 * within `radius`; the centroid then moves towards it (a running mean whose weight stops shrinking at
 * 1/`inertia`, so old regimes can drift slowly). Otherwise it founds a new regime, up to `maxRegimes`, after
 * which it joins the nearest one. Labels are `r0`, `r1`, … in order of foundation, and a regime's label never
 * changes. Ties go to the older regime; there is no randomness.
 */
import { z } from 'zod'

const SPREAD_WEIGHT = 0.05

export interface RegimeOptions {
  /** Largest RMS distance, in per-feature yardsticks (≈ within-regime σ), at which a segment joins a regime. Default 3. */
  radius?: number
  /** Segments that set the first yardstick (all labelled `r0`). Default 8. */
  warmup?: number
  /** Regimes per entity at most. Default 16. */
  maxRegimes?: number
  /** A centroid moves by at least 1/inertia of each new member's offset. Default 50. */
  inertia?: number
}

const finite = z.number().finite()
export const regimeStateSchema = z.strictObject({
  v: z.literal(1),
  options: z.strictObject({
    radius: finite.positive(),
    warmup: z.number().int().positive(),
    maxRegimes: z.number().int().positive(),
    inertia: finite.min(1),
  }),
  /** Feature count (null before the first segment). */
  features: z.number().int().positive().nullable(),
  n: z.number().int().nonnegative(),
  mean: z.array(finite),
  m2: z.array(finite),
  /** The yardstick per feature (0 until the warm-up ends). */
  spread: z.array(finite),
  centroids: z.array(z.array(finite)),
  members: z.array(z.number().int().positive()),
})
export type RegimeState = z.infer<typeof regimeStateSchema>

export interface RegimeTracker {
  /** The regime of a segment with these features (and learns them). */
  label(features: readonly number[]): string
  /** Regimes founded so far. */
  readonly regimes: number
  snapshot(): RegimeState
}

export function createRegimeTracker(options: RegimeOptions = {}): RegimeTracker {
  const radius = options.radius ?? 3
  const warmup = options.warmup ?? 8
  const maxRegimes = options.maxRegimes ?? 16
  const inertia = options.inertia ?? 50
  const state: RegimeState = {
    v: 1,
    options: { radius, warmup, maxRegimes, inertia },
    features: null,
    n: 0,
    mean: [],
    m2: [],
    spread: [],
    centroids: [],
    members: [],
  }
  return new Tracker(parse(state))
}

export function restoreRegimeTracker(state: unknown): RegimeTracker {
  const s = parse(state)
  const f = s.features
  const ok =
    f === null
      ? s.n === 0 && s.centroids.length === 0
      : s.mean.length === f &&
        s.m2.length === f &&
        s.spread.length === f &&
        s.centroids.every((c) => c.length === f) &&
        s.centroids.length === s.members.length
  if (!ok || s.centroids.length > s.options.maxRegimes) throw new Error('regime state: inconsistent sizes')
  return new Tracker(s)
}

function parse(state: unknown): RegimeState {
  const r = regimeStateSchema.safeParse(state)
  if (!r.success) {
    const issue = r.error.issues[0]
    throw new Error(
      `regime state: "${issue === undefined || issue.path.length === 0 ? 'state' : issue.path.join('.')}": ${issue?.message ?? 'invalid'}`,
    )
  }
  return structuredClone(r.data)
}

class Tracker implements RegimeTracker {
  readonly #s: RegimeState

  constructor(state: RegimeState) {
    this.#s = state
  }

  get regimes(): number {
    return this.#s.centroids.length
  }

  label(features: readonly number[]): string {
    const s = this.#s
    if (features.length === 0) throw new Error('regime: no features')
    if (s.features === null) {
      s.features = features.length
      s.mean = new Array<number>(features.length).fill(0)
      s.m2 = new Array<number>(features.length).fill(0)
      s.spread = new Array<number>(features.length).fill(0)
    }
    if (features.length !== s.features) throw new Error(`regime: ${features.length} features, this entity has ${s.features}`)
    for (const f of features) if (!Number.isFinite(f)) throw new Error('regime: features must be finite numbers')

    s.n++
    for (let f = 0; f < features.length; f++) {
      const x = features[f] as number
      const d = x - (s.mean[f] as number)
      s.mean[f] = (s.mean[f] as number) + d / s.n
      s.m2[f] = (s.m2[f] as number) + d * (x - (s.mean[f] as number))
    }
    if (s.n <= s.options.warmup) {
      // Warm-up: everything is r0, and the first yardstick is the spread of these segments.
      if (s.centroids.length === 0) {
        s.centroids.push([...features])
        s.members.push(1)
      } else this.#join(0, features)
      if (s.n === s.options.warmup) {
        for (let f = 0; f < features.length; f++) s.spread[f] = s.n > 1 ? Math.sqrt((s.m2[f] as number) / (s.n - 1)) : 0
      }
      return 'r0'
    }

    let best = -1
    let bestDist = Number.POSITIVE_INFINITY
    for (let k = 0; k < s.centroids.length; k++) {
      const c = s.centroids[k] as number[]
      let sum = 0
      for (let f = 0; f < features.length; f++) {
        const x = features[f] as number
        const scale = Math.max(s.spread[f] as number, 0.01 * Math.abs(s.mean[f] as number), 1e-9 * (1 + Math.abs(x)))
        const z = (x - (c[f] as number)) / scale
        sum += z * z
      }
      const dist = Math.sqrt(sum / features.length)
      if (dist < bestDist) {
        bestDist = dist
        best = k
      }
    }

    if (best < 0 || (bestDist > s.options.radius && s.centroids.length < s.options.maxRegimes)) {
      s.centroids.push([...features])
      s.members.push(1)
      return `r${s.centroids.length - 1}`
    }
    // The yardstick follows how far members lie from their centroid (≈ σ as 1.25 × mean absolute deviation).
    const c = s.centroids[best] as number[]
    for (let f = 0; f < features.length; f++) {
      const dev = 1.25 * Math.abs((features[f] as number) - (c[f] as number))
      s.spread[f] = (s.spread[f] as number) + SPREAD_WEIGHT * (dev - (s.spread[f] as number))
    }
    this.#join(best, features)
    return `r${best}`
  }

  #join(k: number, features: readonly number[]): void {
    const s = this.#s
    const c = s.centroids[k] as number[]
    const members = (s.members[k] as number) + 1
    s.members[k] = members
    const w = 1 / Math.min(members, s.options.inertia)
    for (let f = 0; f < features.length; f++) c[f] = (c[f] as number) + w * ((features[f] as number) - (c[f] as number))
  }

  snapshot(): RegimeState {
    // A deep copy of plain arrays of numbers (what structuredClone made of it, at a fraction of the cost: the
    // node takes one at every seal).
    const s = this.#s
    return {
      v: s.v,
      options: { ...s.options },
      features: s.features,
      n: s.n,
      mean: s.mean.slice(),
      m2: s.m2.slice(),
      spread: s.spread.slice(),
      centroids: s.centroids.map((c) => c.slice()),
      members: s.members.slice(),
    }
  }
}

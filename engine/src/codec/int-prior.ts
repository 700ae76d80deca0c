/**
 * Where the residual contexts start in every block. Blocks are small (≈ 256 residuals): learning from flat
 * probabilities would cost more than the data, so every context starts from a parametric prior — a discrete
 * generalised Gaussian P(r) ∝ exp(-(|r|/a)^shape) whose mean |r| is the bucket's activity — held with the
 * weight of PRIOR_COUNT observations; the adaptive counts then correct it to the data.
 *
 * Two shapes, chosen per block by the encoder (1 bit): a heavy-tailed one (0.25), which fits NAB's residuals
 * best — most contexts are met a handful of times per block, and the first surprise is cheaper — and the
 * Laplace (1), for residuals that are plain noise.
 */

import { expNeg, pow2, sqrt } from './exact-math.ts'
import { BUCKETS, bucketMean, CLASSES, D_BASE, E_BASE, EXPECTED, G_BASE, M_BASE, S_BASE, SIZE, Z_BASE } from './int-layout.ts'
import { cloneProbs, type Probs } from './range-coder.ts'

/** Weight of the prior, in observations (2 measured best on NAB among 1, 2, 4, 8). */
const PRIOR_COUNT = 2
/**
 * The shapes a block may start from (index = the family bit), as 1/2^roots: 0.25 and 1. Shapes of that form
 * need only square roots, so the tables are built from exactly specified arithmetic (exact-math.ts) and are
 * the same bits on every engine, now and later: a block's decoding depends on them.
 */
const PRIOR_ROOTS = [2, 0] as const

interface Tails {
  nonZero: number
  atLeast: Float64Array
}

/** The discrete Laplace parameter θ (P(r) ∝ θ^|r|) whose mean |r| is mu. */
function theta(mu: number): number {
  return (sqrt(1 + mu * mu) - 1) / mu
}

/** t^(2^j), by squaring. */
function powPow2(t: number, j: number): number {
  let x = t
  for (let i = 0; i < j; i++) x *= x
  return x
}

function factorial(n: number): number {
  let f = 1
  for (let i = 2; i <= n; i++) f *= i
  return f
}

function toProb(p: number): number {
  const scaled = Math.round(p * 65536)
  return scaled < 16 ? 16 : Math.min(scaled, 65520)
}

/** Buckets up to this one get their prior summed; above it, a shifted copy of this one's (scale invariance). */
const SUMMED_BUCKETS = 10

/**
 * P(|r| ≥ 2^j | r ≠ 0) for j = 0..CLASSES, and P(r ≠ 0), under a discrete generalised Gaussian
 * P(r) ∝ exp(-(|r|/a)^shape), shape = 1/2^roots, whose mean |r| is mu: a from the continuous distribution's
 * mean, a·Γ(2/shape)/Γ(1/shape), or by bisection on the discrete mean where mu is small.
 */
function summedTails(mu: number, roots: number): Tails {
  const m = pow2(roots)
  const top = Math.ceil(60 * mu + 64)
  const w = new Float64Array(top + 1)
  let total = 0
  const continuous = (mu * factorial(m - 1)) / factorial(2 * m - 1)
  let lo = 0
  let hi = 4 * continuous + 4
  for (let it = 0; it < (mu < 4 ? 30 : 1); it++) {
    const a = mu < 4 ? (lo + hi) / 2 : continuous
    total = 0
    let mean = 0
    for (let k = 0; k <= top; k++) {
      let x = k / a
      for (let i = 0; i < roots; i++) x = sqrt(x)
      w[k] = expNeg(x) * (k === 0 ? 1 : 2)
      total += w[k]!
      mean += k * w[k]!
    }
    if (mean / total < mu) lo = a
    else hi = a
  }
  // Suffix sums: tail[k] = P(|r| ≥ k).
  const tail = new Float64Array(top + 2)
  for (let k = top; k >= 0; k--) tail[k] = tail[k + 1]! + w[k]! / total
  const atLeast = new Float64Array(CLASSES + 1)
  for (let j = 0; j <= CLASSES; j++) atLeast[j] = pow2(j) <= top ? tail[pow2(j)]! / tail[1]! : 0
  return { nonZero: tail[1]!, atLeast }
}

/** The prior's tails for every bucket: summed for small activities, shifted by octaves beyond. */
function tailsFor(roots: number): Tails[] {
  const out: Tails[] = []
  for (let b = 0; b <= SUMMED_BUCKETS; b++) out.push(summedTails(bucketMean(b), roots))
  const ref = out[SUMMED_BUCKETS]!
  for (let b = SUMMED_BUCKETS + 1; b < BUCKETS; b++) {
    const shift = b - SUMMED_BUCKETS
    const atLeast = new Float64Array(CLASSES + 1)
    for (let j = 0; j <= CLASSES; j++) atLeast[j] = j < shift ? 1 : ref.atLeast[j - shift]!
    out.push({ nonZero: 1 - (1 - ref.nonZero) / pow2(shift), atLeast })
  }
  return out
}

function buildPrior(roots: number): Probs {
  const tails = tailsFor(roots)
  const prior: Probs = { p: new Uint16Array(SIZE).fill(32768), n: new Uint8Array(SIZE).fill(PRIOR_COUNT) }
  for (let b = 0; b < BUCKETS; b++) {
    const { nonZero, atLeast } = tails[b]!
    prior.p[Z_BASE + b] = toProb(nonZero)
    prior.p[G_BASE + b] = toProb(atLeast[EXPECTED[b]!]!)
    for (let j = 0; j < CLASSES; j++) {
      prior.p[E_BASE + b * CLASSES + j] = toProb(atLeast[j + 1]! / Math.max(atLeast[j]!, 1e-300)) // P(e > j | e ≥ j)
      prior.p[D_BASE + b * CLASSES + j] = toProb((1 - atLeast[j]!) / Math.max(1 - atLeast[j + 1]!, 1e-300)) // P(e < j | e ≤ j)
    }
  }
  // The two bits below the leading one, per class, from the Laplace of that class's size.
  for (let j = 1; j < CLASSES; j++) {
    const t = theta(1.5 * pow2(j))
    const half = powPow2(t, j - 1)
    prior.p[M_BASE + j * 3] = toProb(half / (1 + half))
    if (j >= 2) {
      const quarter = powPow2(t, j - 2)
      prior.p[M_BASE + j * 3 + 1] = toProb(quarter / (1 + quarter))
      prior.p[M_BASE + j * 3 + 2] = toProb(quarter / (1 + quarter))
    }
  }
  for (let s = 0; s < 3; s++) prior.n[S_BASE + s] = 0
  return prior
}

const PRIORS: Probs[] = PRIOR_ROOTS.map(buildPrior)

/** A fresh set of residual contexts, at prior `family`. */
export function newIntProbs(family = 0): Probs {
  return cloneProbs(PRIORS[family]!)
}

/** Puts a set of residual contexts back at prior `family`. */
export function resetIntProbs(probs: Probs, family = 0): void {
  const prior = PRIORS[family]!
  probs.p.set(prior.p)
  probs.n.set(prior.n)
}

import { pow2 } from './exact-math.ts'

/**
 * The layout of the residual contexts (int-coder.ts) and the activity buckets that index them.
 */

/** Activity buckets: 0 for activity < 1/16, then one per octave. */
export const BUCKETS = 64
/** Magnitude classes 0..52 (|r| < 2^53). */
export const CLASSES = 53
export const Z_BASE = 0 // "r ≠ 0", per bucket
export const S_BASE = Z_BASE + BUCKETS // "r < 0", per previous sign
export const G_BASE = S_BASE + 3 // "e ≥ k", per bucket
export const E_BASE = G_BASE + BUCKETS // "e > j" for j ≥ k, per bucket and class
export const D_BASE = E_BASE + BUCKETS * CLASSES // "e < j" for j < k, per bucket and class
export const M_BASE = D_BASE + BUCKETS * CLASSES // the two bits below the leading one, per class
export const SIZE = M_BASE + CLASSES * 3
/** The class bucket b expects: its activity is about 2^(b - 5). */
export const EXPECTED = new Uint8Array(BUCKETS).map((_, b) => Math.max(0, b - 5))

/** The activity a bucket stands for (the geometric middle of its octave). */
export function bucketMean(b: number): number {
  return b === 0 ? 1 / 32 : (pow2(b - 1) / 16) * Math.SQRT2
}

/** The bucket of an activity level: 0 below 1/16, then floor(log2(16 · activity)) + 1. */
export function bucketOf(activity: number): number {
  const a = activity * 16
  if (a < 1) return 0
  if (a < 0x100000000) return 32 - Math.clz32(a)
  const b = 64 - Math.clz32(Math.min(a / 0x100000000, 0xffffffff))
  return b >= BUCKETS ? BUCKETS - 1 : b
}

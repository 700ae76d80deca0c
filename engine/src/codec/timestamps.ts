/**
 * Timestamps (integer ms, non-decreasing), always lossless: the greatest common divisor g of the steps (a
 * 5-minute series steps in units of 300 000 ms, a jittery one in whole seconds or minutes), the first
 * timestamp (in units of g when it sits on that grid), then the steps in units of g. A regular series is one flag; otherwise the steps form an integer column whose
 * "previous" predictor is the delta-of-delta of Gorilla, and whose other predictors cover jitter around a
 * nominal period.
 */
import { corrupt } from './errors.ts'
import { MAX_TIMESTAMP } from './format.ts'
import { chooseIntColumn, decodeIntColumn, encodeIntColumn } from './int-column.ts'
import type { BitSink, Probs, RangeDecoder } from './range-coder.ts'
import { getRound, getSignedWide, putRound, putSignedWide } from './universal.ts'

const EPOCH = Date.UTC(2020, 0, 1)

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b
    a = b
    b = t
  }
  return a
}

export function encodeTimestamps(sink: BitSink, probs: Probs, ts: readonly number[]): void {
  const n = ts.length
  let g = 0
  for (let i = 1; i < n; i++) g = gcd(ts[i]! - ts[i - 1]!, g)
  if (n > 1) putRound(sink, g)
  // The first timestamp, from 2020-01-01 (a few bits shorter for data of this era), and in periods when it
  // sits on the period's grid (00:05:00 for a 5-minute series): 18 bits fewer.
  const first = ts[0]! - EPOCH
  const aligned = g > 1 && first % g === 0
  if (g > 1) sink.direct(aligned ? 1 : 0, 1)
  putSignedWide(sink, aligned ? first / g : first)
  if (g === 0) return
  const steps = new Float64Array(n - 1)
  let regular = true
  for (let i = 1; i < n; i++) {
    steps[i - 1] = (ts[i]! - ts[i - 1]!) / g
    if (steps[i - 1] !== 1) regular = false
  }
  sink.direct(regular ? 1 : 0, 1)
  if (regular) return
  const r = new Float64Array(n - 1)
  const { coding } = chooseIntColumn(probs, steps, r)
  encodeIntColumn(sink, probs, steps, coding, r)
}

export function decodeTimestamps(src: RangeDecoder, probs: Probs, n: number): number[] {
  const g = n > 1 ? getRound(src) : 0
  const aligned = g > 1 && src.direct(1) === 1
  const t0 = getSignedWide(src) * (aligned ? g : 1) + EPOCH
  if (!Number.isSafeInteger(t0) || Math.abs(t0) > MAX_TIMESTAMP) corrupt('the first timestamp is out of range')
  const ts = new Array<number>(n)
  ts[0] = t0
  if (n === 1) return ts
  if (g === 0 || src.direct(1) === 1) {
    for (let i = 1; i < n; i++) ts[i] = t0 + i * g
  } else {
    const steps = decodeIntColumn(src, probs, n - 1)
    for (let i = 1; i < n; i++) {
      const step = steps[i - 1]!
      if (step < 0) corrupt('a negative time step')
      ts[i] = ts[i - 1]! + step * g
    }
  }
  if (!Number.isSafeInteger(ts[n - 1]!) || ts[n - 1]! > MAX_TIMESTAMP) corrupt('timestamps out of range')
  return ts
}

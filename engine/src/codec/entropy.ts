/** Order-0 entropy of integer sequences: the encoder's quick estimate where exact pricing would cost too much. */
import { median } from './predict.ts'

const HALF = 64
const BINS = 2 * HALF + 1
/**
 * Two histograms side by side, values at even and odd positions counted apart (summed when read): a run of
 * equal values — the usual case — then alternates between two counters instead of making each increment wait
 * for the one before it.
 */
const hist = new Uint32Array(2 * BINS)

/** log2(c / count) for c = 0..count, per count: the very Math.log2 values, computed once (blocks share a few counts). */
const logTables = new Map<number, Float64Array>()

function logTable(count: number): Float64Array {
  let table = logTables.get(count)
  if (table === undefined) {
    table = new Float64Array(count + 1)
    for (let c = 1; c <= count; c++) table[c] = Math.log2(c / count)
    if (logTables.size > 64) logTables.clear()
    logTables.set(count, table)
  }
  return table
}

/** The entropy of the counts in `hist` over `count` values, plus `extra`; clears `hist`. */
function histogramBits(count: number, extra: number): number {
  const log = logTable(count)
  let bits = extra
  for (let s = 0; s < BINS; s++) {
    const c = hist[s]! + hist[s + BINS]!
    if (c > 0) {
      bits -= c * log[c]!
      hist[s] = 0
      hist[s + BINS] = 0
    }
  }
  return bits
}

/** The entropy in bits of `total` values counted in counts[from..to], read in order (and left as they are). */
export function countsBits(counts: Uint32Array, from: number, to: number, total: number): number {
  const log = logTable(total)
  let bits = 0
  for (let s = from; s <= to; s++) {
    const c = counts[s]!
    if (c > 0) bits -= c * log[c]!
  }
  return bits
}

/** Counts x (position parity `odd`: 0 or BINS) and returns the bits an escape adds (values beyond ±64 share one symbol). */
function count(x: number, odd: number): number {
  if (x > -HALF && x < HALF) {
    hist[odd + x + HALF]!++
    return 0
  }
  hist[odd]!++
  return 2 * Math.log2(Math.abs(x))
}

/** Order-0 entropy of r[from..n) in bits; values beyond ±64 share an escape symbol and add twice their length. */
export function entropyBits(r: ArrayLike<number>, from: number, n: number): number {
  let extra = 0
  for (let i = from; i < n; i++) extra += count(r[i]!, (i & 1) * BINS)
  return histogramBits(n - from, extra)
}

/**
 * The lesser order-0 entropy of q[0..n)'s deltas and of q[0..n) around `center` (its median by default):
 * entropyBits of each, with the differences taken on the fly.
 */
export function quickBits(q: Float64Array, n = q.length, center = median(q.subarray(0, n))): number {
  let extra = 0
  for (let i = 1; i < n; i++) extra += count(q[i]! - q[i - 1]!, (i & 1) * BINS)
  const deltas = histogramBits(n - 1, extra)
  extra = 0
  for (let i = 0; i < n; i++) extra += count(q[i]! - center, (i & 1) * BINS)
  return Math.min(deltas, histogramBits(n, extra))
}

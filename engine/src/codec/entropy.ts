/** Order-0 entropy of integer sequences: the encoder's quick estimate where exact pricing would cost too much. */
import { median } from './predict.ts'

const HALF = 64
const hist = new Uint32Array(2 * HALF + 1)

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
  for (let s = 0; s < hist.length; s++) {
    const c = hist[s]!
    if (c > 0) {
      bits -= c * log[c]!
      hist[s] = 0
    }
  }
  return bits
}

/** Order-0 entropy of r[from..n) in bits; values beyond ±64 share an escape symbol and add twice their length. */
export function entropyBits(r: ArrayLike<number>, from: number, n: number): number {
  hist.fill(0)
  let extra = 0
  for (let i = from; i < n; i++) {
    const x = r[i]!
    if (x > -HALF && x < HALF) hist[x + HALF]!++
    else {
      hist[0]!++
      extra += 2 * Math.log2(Math.abs(x))
    }
  }
  return histogramBits(n - from, extra)
}

/**
 * The lesser order-0 entropy of q's deltas and of q around `center` (its median by default): entropyBits of
 * each, with the differences taken on the fly (`r`, once their scratch, is not used).
 */
export function quickBits(q: Float64Array, _r: Float64Array, center = median(q)): number {
  const n = q.length
  hist.fill(0)
  let extra = 0
  for (let i = 1; i < n; i++) {
    const x = q[i]! - q[i - 1]!
    if (x > -HALF && x < HALF) hist[x + HALF]!++
    else {
      hist[0]!++
      extra += 2 * Math.log2(Math.abs(x))
    }
  }
  const deltas = histogramBits(n - 1, extra)
  extra = 0
  for (let i = 0; i < n; i++) {
    const x = q[i]! - center
    if (x > -HALF && x < HALF) hist[x + HALF]!++
    else {
      hist[0]!++
      extra += 2 * Math.log2(Math.abs(x))
    }
  }
  return Math.min(deltas, histogramBits(n, extra))
}

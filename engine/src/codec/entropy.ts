/** Order-0 entropy of integer sequences: the encoder's quick estimate where exact pricing would cost too much. */
import { median } from './predict.ts'

const HALF = 64
const hist = new Uint32Array(2 * HALF + 1)

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
  const count = n - from
  let bits = extra
  for (let s = 0; s < hist.length; s++) {
    const c = hist[s]!
    if (c > 0) bits -= c * Math.log2(c / count)
  }
  return bits
}

/** The lesser order-0 entropy of q's deltas and of q around `center` (its median by default; `r` is scratch). */
export function quickBits(q: Float64Array, r: Float64Array, center = median(q)): number {
  for (let i = 1; i < q.length; i++) r[i] = q[i]! - q[i - 1]!
  const deltas = entropyBits(r, 1, q.length)
  const c = center
  for (let i = 0; i < q.length; i++) r[i] = q[i]! - c
  return Math.min(deltas, entropyBits(r, 0, q.length))
}

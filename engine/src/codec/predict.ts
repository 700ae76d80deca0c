/**
 * Predictors over a dimension's integers (scaled decimals or quantisation indices). Each sends one anchor in
 * the header and codes residuals against its prediction; the encoder keeps whichever costs least per block.
 *   previous  v[i-1]                         random walks, slow drifts (delta coding)     anchor v[0]
 *   linear    2 v[i-1] - v[i-2]              smooth trends (delta-of-delta)               anchor v[0]
 *   level     c (the block's median)         noise around a level, spikes                 anchor c
 *   revert    ⌊(v[i-1] + c + 1) / 2⌋         noise that leans on the last value           anchor c
 *   mean2     ⌊(v[i-1] + v[i-2] + 1) / 2⌋    a level drifting under noise                 anchor v[0]
 *   mean4     ⌊(v[i-1] + … + v[i-4] + 2) / 4⌋                                               anchor v[0]
 *   smooth2   round(s), s ← s + (v - s) / 2  exponential smoothing, fast                  anchor v[0]
 *   smooth4   round(s), s ← s + (v - s) / 4  exponential smoothing, slow                  anchor v[0]
 * All arithmetic is exact or IEEE-deterministic: |v| < 2^50 keeps every prediction and residual below 2^53,
 * and the encoder and the decoder run the very same operations in the same order.
 */
export const PREVIOUS = 0
export const LINEAR = 1
export const LEVEL = 2
export const REVERT = 3
export const MEAN2 = 4
export const MEAN4 = 5
export const SMOOTH2 = 6
export const SMOOTH4 = 7
export const PREDICTORS = [PREVIOUS, LINEAR, LEVEL, REVERT, MEAN2, MEAN4, SMOOTH2, SMOOTH4] as const
export type Predictor = (typeof PREDICTORS)[number]
export const PREDICTOR_BITS = 3

/** Index of the first residual: predictors anchored on v[0] start at 1. */
export function firstResidual(predictor: Predictor): number {
  return predictor === LEVEL || predictor === REVERT ? 0 : 1
}

let scratch = new Float64Array(256)

/** The lower median of v (quickselect on a scratch copy: linear time, no allocation per call). */
export function median(v: ArrayLike<number>): number {
  const n = v.length
  if (scratch.length < n) scratch = new Float64Array(n)
  const a = scratch
  for (let i = 0; i < n; i++) a[i] = v[i]!
  const k = (n - 1) >> 1
  let lo = 0
  let hi = n - 1
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1]!
    let i = lo
    let j = hi
    while (i <= j) {
      while (a[i]! < pivot) i++
      while (a[j]! > pivot) j--
      if (i <= j) {
        const t = a[i]!
        a[i] = a[j]!
        a[j] = t
        i++
        j--
      }
    }
    if (k <= j) hi = j
    else if (k >= i) lo = i
    else break
  }
  return a[k]!
}

/**
 * Runs a predictor along v. With `decode` false, v holds the values and r receives the residuals; with
 * `decode` true, r holds the residuals and v receives the values (v[i] is written before it is needed).
 * One loop per predictor (the prediction of each is the same expression in both directions).
 */
function run(predictor: Predictor, anchor: number, v: Float64Array | ArrayLike<number>, r: Float64Array, decode: boolean): void {
  if (decode) runDecode(predictor, anchor, v as Float64Array, r)
  else runEncode(predictor, anchor, v, r)
}

function runEncode(predictor: Predictor, anchor: number, v: ArrayLike<number>, r: Float64Array): void {
  const n = v.length
  switch (predictor) {
    case PREVIOUS:
      for (let i = 1; i < n; i++) r[i] = v[i]! - v[i - 1]!
      return
    case LINEAR:
      if (n > 1) r[1] = v[1]! - v[0]!
      for (let i = 2; i < n; i++) r[i] = v[i]! - (2 * v[i - 1]! - v[i - 2]!)
      return
    case LEVEL:
      for (let i = 0; i < n; i++) r[i] = v[i]! - anchor
      return
    case REVERT:
      if (n > 0) r[0] = v[0]! - anchor
      for (let i = 1; i < n; i++) r[i] = v[i]! - Math.floor((v[i - 1]! + anchor + 1) / 2)
      return
    case MEAN2:
      if (n > 1) r[1] = v[1]! - v[0]!
      for (let i = 2; i < n; i++) r[i] = v[i]! - Math.floor((v[i - 1]! + v[i - 2]! + 1) / 2)
      return
    case MEAN4:
      for (let i = 1; i < n && i < 4; i++) r[i] = v[i]! - v[i - 1]!
      for (let i = 4; i < n; i++) r[i] = v[i]! - Math.floor((v[i - 1]! + v[i - 2]! + v[i - 3]! + v[i - 4]! + 2) / 4)
      return
    case SMOOTH2: {
      let s = anchor
      for (let i = 1; i < n; i++) {
        s += (v[i - 1]! - s) * 0.5
        r[i] = v[i]! - Math.round(s)
      }
      return
    }
    default: {
      let s = anchor
      for (let i = 1; i < n; i++) {
        s += (v[i - 1]! - s) * 0.25
        r[i] = v[i]! - Math.round(s)
      }
    }
  }
}

function runDecode(predictor: Predictor, anchor: number, out: Float64Array, r: Float64Array): void {
  const n = out.length
  const from = firstResidual(predictor)
  if (from === 1 && n > 0) out[0] = anchor
  let s = anchor
  for (let i = from; i < n; i++) {
    let p: number
    switch (predictor) {
      case PREVIOUS:
        p = out[i - 1]!
        break
      case LINEAR:
        p = i === 1 ? out[0]! : 2 * out[i - 1]! - out[i - 2]!
        break
      case LEVEL:
        p = anchor
        break
      case REVERT:
        p = i === 0 ? anchor : Math.floor((out[i - 1]! + anchor + 1) / 2)
        break
      case MEAN2:
        p = i === 1 ? out[0]! : Math.floor((out[i - 1]! + out[i - 2]! + 1) / 2)
        break
      case MEAN4:
        p = i < 4 ? out[i - 1]! : Math.floor((out[i - 1]! + out[i - 2]! + out[i - 3]! + out[i - 4]! + 2) / 4)
        break
      case SMOOTH2:
        s += (out[i - 1]! - s) * 0.5
        p = Math.round(s)
        break
      default:
        s += (out[i - 1]! - s) * 0.25
        p = Math.round(s)
    }
    out[i] = r[i]! + p
  }
}

/** The anchor, and residuals r[first..n) into `r`; `center` is median(v) when the caller already has it. */
export function residuals(predictor: Predictor, v: ArrayLike<number>, r: Float64Array, center?: number): number {
  const anchor = predictor === LEVEL || predictor === REVERT ? (center ?? median(v)) : v[0]!
  run(predictor, anchor, v, r, false)
  return anchor
}

/** Rebuilds v from the residuals held in v itself (in place: each value replaces its residual in order). */
export function reconstruct(predictor: Predictor, anchor: number, v: Float64Array): void {
  run(predictor, anchor, v, v, true)
}

/**
 * Predictors over a dimension's integers (scaled decimals or quantisation indices). Each sends one anchor in
 * the header and codes residuals against its prediction; the encoder keeps whichever costs least per block.
 *   previous  v[i-1]                       random walks, slow drifts          anchor v[0]
 *   linear    2 v[i-1] - v[i-2]            smooth trends                      anchor v[0]
 *   level     c (the block's median)       noise around a level, spikes       anchor c
 *   revert    ⌊(v[i-1] + c + 1) / 2⌋       noise that leans on the last value anchor c
 * All arithmetic stays exact: |v| < 2^50 keeps every prediction and residual below 2^53.
 */
export const PREVIOUS = 0
export const LINEAR = 1
export const LEVEL = 2
export const REVERT = 3
export const PREDICTORS = [PREVIOUS, LINEAR, LEVEL, REVERT] as const
export type Predictor = (typeof PREDICTORS)[number]

/** Index of the first residual: predictors anchored on v[0] start at 1. */
export function firstResidual(predictor: Predictor): number {
  return predictor === PREVIOUS || predictor === LINEAR ? 1 : 0
}

export function median(v: ArrayLike<number>): number {
  const sorted = Float64Array.from(v).sort()
  return sorted[(sorted.length - 1) >> 1]!
}

function predict(predictor: Predictor, v: ArrayLike<number>, i: number, c: number): number {
  switch (predictor) {
    case PREVIOUS:
      return v[i - 1]!
    case LINEAR:
      return i === 1 ? v[0]! : 2 * v[i - 1]! - v[i - 2]!
    case LEVEL:
      return c
    default:
      return i === 0 ? c : Math.floor((v[i - 1]! + c + 1) / 2)
  }
}

/** The anchor, and residuals r[first..n) into `out`. */
export function residuals(predictor: Predictor, v: ArrayLike<number>, out: Float64Array): number {
  const c = predictor === LEVEL || predictor === REVERT ? median(v) : v[0]!
  for (let i = firstResidual(predictor); i < v.length; i++) out[i] = v[i]! - predict(predictor, v, i, c)
  return c
}

/** Rebuilds v in place of the residuals: v[i] = r[i] + prediction, in order. */
export function reconstruct(predictor: Predictor, anchor: number, v: Float64Array): void {
  if (firstResidual(predictor) === 1) v[0] = anchor
  for (let i = firstResidual(predictor); i < v.length; i++) v[i] = v[i]! + predict(predictor, v, i, anchor)
}

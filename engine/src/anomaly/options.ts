/**
 * The anomaly scorer's settings: one configuration for every entity (never tuned per series). The defaults were
 * chosen on the NAB corpus as a whole (see `npm run bench -- anomaly`) and are round numbers on purpose.
 */

/** An observation is an alert when its score is at or above this. */
export const DEFAULT_ALERT_THRESHOLD = 0.5

export interface AnomalyOptions {
  /** Score at or above which an observation is an alert. Default 0.5. */
  threshold?: number
  /** Observations learned before any score can rise above 0. Default 100. */
  warmup?: number
  /** From this observation on, the channels' records of "normal" start to fill. Default 50. */
  recordFrom?: number
  /** An alert needs a statistic this many times the largest one seen without alerting. Default 1.2. */
  recordFactor?: number
  /** Half-life, in observations, of those records (0: they never fade). Default 0. */
  recordHalfLife?: number
  /** Range channel: how far outside the known range (as a fraction of it) makes a score of 0.5. Default 0.02. */
  rangeMargin?: number
  /** Range channel: how fast the known range shrinks back towards its middle, per observation. Default 1e-4. */
  rangeDecay?: number
  /** Local channel: weight of each new value in the short baseline. Default 0.1. */
  localAlpha?: number
  /** Weight of each new residual in the residual scales (mean absolute deviations). Default 0.001. */
  scaleAlpha?: number
  /** Local channel: the least residual, in mean absolute deviations, that can alert. Default 6. */
  localFloor?: number
  /** Daily channel: slots per UTC day. Default 24 (hours). */
  dailySlots?: number
  /** Daily channel: weight of each new value in its slot's baseline. Default 0.3. */
  dailyAlpha?: number
  /** Daily channel: the least residual, in mean absolute deviations, that can alert. Default 5. */
  dailyFloor?: number
  /** Daily channel: observations a slot needs before its residuals count. Default 2. */
  dailyMinSeen?: number
  /** After an alert, the next this-many observations cannot alert (their scores stay just under the threshold). Default 200. */
  rest?: number
  /** Change-point signal: CUSUM drift and decision level, in residual standard deviations. Defaults 1 and 12. */
  changeDrift?: number
  changeLevel?: number
  /** Change-point signal: at most one per this many observations. Default 200. */
  changeGap?: number
}

export type ResolvedAnomalyOptions = Required<AnomalyOptions>

export const DEFAULT_ANOMALY_OPTIONS: ResolvedAnomalyOptions = {
  threshold: DEFAULT_ALERT_THRESHOLD,
  warmup: 100,
  recordFrom: 50,
  recordFactor: 1.2,
  recordHalfLife: 0,
  rangeMargin: 0.02,
  rangeDecay: 1e-4,
  localAlpha: 0.1,
  scaleAlpha: 0.001,
  localFloor: 6,
  dailySlots: 24,
  dailyAlpha: 0.3,
  dailyFloor: 5,
  dailyMinSeen: 2,
  rest: 200,
  changeDrift: 1,
  changeLevel: 12,
  changeGap: 200,
}

/** The options with defaults filled in, checked: a clear error naming the field, never a silent NaN later. */
export function resolveAnomalyOptions(options: AnomalyOptions = {}): ResolvedAnomalyOptions {
  const out: ResolvedAnomalyOptions = { ...DEFAULT_ANOMALY_OPTIONS }
  for (const [key, value] of Object.entries(options) as [keyof AnomalyOptions, unknown][]) {
    if (value === undefined) continue
    if (!(key in DEFAULT_ANOMALY_OPTIONS)) throw new Error(`anomaly options: unknown field "${key}"`)
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new Error(`anomaly options: "${key}" must be a finite number ≥ 0, got ${String(value)}`)
    }
    out[key] = value
  }
  if (out.threshold <= 0 || out.threshold > 1) throw new Error(`anomaly options: "threshold" must be in (0, 1], got ${out.threshold}`)
  if (!Number.isInteger(out.dailySlots) || out.dailySlots < 1 || out.dailySlots > 1440) {
    throw new Error(`anomaly options: "dailySlots" must be an integer in [1, 1440], got ${out.dailySlots}`)
  }
  for (const key of ['rangeMargin', 'recordFactor', 'localFloor', 'dailyFloor', 'changeLevel'] as const) {
    if (out[key] === 0) throw new Error(`anomaly options: "${key}" must be > 0`)
  }
  for (const key of ['rangeDecay', 'localAlpha', 'scaleAlpha', 'dailyAlpha'] as const) {
    if (out[key] > 1) throw new Error(`anomaly options: "${key}" must be in [0, 1], got ${out[key]}`)
  }
  return out
}

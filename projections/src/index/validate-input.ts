import { VsdbError } from '@vsdb/log'
import type { SearchPlan, SegmentFilters, SegmentInput } from './types.ts'

/** The largest k a query may ask for. */
export const MAX_K = 10_000
/** hnswlib stores float32: a finite float64 beyond this would become Infinity inside the index. */
const FLOAT32_MAX = 3.4028234663852886e38
/** The widest centroid hnswlib is asked to hold (the log's schema allows the same). */
export const MAX_DIM = 65_536

function invalid(field: string, message: string, extra: Record<string, unknown> = {}): VsdbError {
  return new VsdbError('INVALID_INPUT', message, { field, ...extra })
}

function text(value: unknown, field: string, min: number, max: number): string {
  if (typeof value !== 'string' || value.length < min || value.length > max) {
    throw invalid(field, `${field} must be a string of ${min} to ${max} characters, got ${describe(value)}`)
  }
  return value
}

function finite(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(field, `${field} must be a finite number, got ${describe(value)}`)
  return value
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (Array.isArray(value)) return `an array of ${value.length}`
  return String(value)
}

/**
 * A vector of finite numbers within float32 range, as a plain array (what hnswlib-node accepts). NaN, ±Infinity,
 * strings and holes are refused naming the field and the position.
 */
export function checkVector(value: unknown, field: string): readonly number[] {
  if (!Array.isArray(value)) throw invalid(field, `${field} must be an array of numbers, got ${describe(value)}`)
  if (value.length === 0 || value.length > MAX_DIM) throw invalid(field, `${field} must have 1 to ${MAX_DIM} values, got ${value.length}`)
  for (let i = 0; i < value.length; i++) {
    const x: unknown = value[i]
    if (typeof x !== 'number' || !Number.isFinite(x) || Math.abs(x) > FLOAT32_MAX) {
      throw invalid(field, `${field}[${i}] must be a finite number within float32 range, got ${describe(x)}`, { index: i })
    }
  }
  return value as readonly number[]
}

export function checkSegment(input: SegmentInput): void {
  if (input === null || typeof input !== 'object') throw invalid('segment', `a segment must be an object, got ${describe(input)}`)
  text(input.cid, 'cid', 1, 512)
  text(input.entity, 'entity', 1, 256)
  text(input.regime, 'regime', 0, 64)
  const from = finite(input.from, 'from')
  const to = finite(input.to, 'to')
  if (from > to) throw invalid('from', `from (${from}) is after to (${to})`)
  const anomaly = finite(input.anomaly, 'anomaly')
  if (anomaly < 0 || anomaly > 1) throw invalid('anomaly', `anomaly must be in [0, 1], got ${anomaly}`)
  checkVector(input.centroid, 'centroid')
}

/** k: an integer from 1 to MAX_K; asking for more than there are to rank gives all of them (possibly none). */
export function checkK(k: unknown, available: number): number {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) throw invalid('k', `k must be a positive integer, got ${describe(k)}`)
  if (k > MAX_K) throw invalid('k', `k must be at most ${MAX_K}, got ${k}`)
  return Math.min(k, available)
}

const PLANS: readonly SearchPlan[] = ['auto', 'hnsw', 'exact']

/** The filters' shapes; whether the entity and regime exist is the index's business. */
export function checkFilters(filters: SegmentFilters): void {
  if (filters === null || typeof filters !== 'object') throw invalid('filters', `filters must be an object, got ${describe(filters)}`)
  if (filters.entity !== undefined) text(filters.entity, 'entity', 1, 256)
  if (filters.regime !== undefined) text(filters.regime, 'regime', 0, 64)
  const from = filters.from === undefined ? undefined : finite(filters.from, 'from')
  const to = filters.to === undefined ? undefined : finite(filters.to, 'to')
  if (from !== undefined && to !== undefined && from > to) throw invalid('from', `from (${from}) is after to (${to})`)
  if (filters.minAnomaly !== undefined) {
    const min = finite(filters.minAnomaly, 'minAnomaly')
    if (min < 0 || min > 1) throw invalid('minAnomaly', `minAnomaly must be in [0, 1], got ${min}`)
  }
  if (filters.plan !== undefined && !PLANS.includes(filters.plan)) {
    throw invalid('plan', `plan must be one of ${PLANS.join(', ')}, got ${describe(filters.plan)}`)
  }
}

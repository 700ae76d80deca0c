import { VsdbError } from '@vsdb/log'
import type { LoadSegmentIndexOptions, SegmentIndexOptions, SegmentSpace } from './types.ts'

/** Every option of a segment index, defaults filled in and checked. */
export interface ResolvedOptions {
  space: SegmentSpace
  m: number
  efConstruction: number
  seed: number
  initialCapacity: number
  efSearch: number
}

export const DEFAULTS: ResolvedOptions = {
  space: 'l2',
  m: 16,
  efConstruction: 100,
  seed: 100,
  initialCapacity: 1024,
  efSearch: 64,
}

function integer(value: unknown, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new VsdbError('INVALID_INPUT', `${field} must be an integer from ${min} to ${max}, got ${String(value)}`, { field })
  }
  return value
}

export function resolveSpace(value: unknown): SegmentSpace {
  if (value === undefined) return DEFAULTS.space
  if (value !== 'l2' && value !== 'cosine') {
    throw new VsdbError('INVALID_INPUT', `space must be "l2" or "cosine", got ${JSON.stringify(value)}`, { field: 'space' })
  }
  return value
}

export function resolveEfSearch(value: unknown): number {
  return integer(value, 'efSearch', 1, 100_000, DEFAULTS.efSearch)
}

export function resolveOptions(options: SegmentIndexOptions = {}): ResolvedOptions {
  return {
    space: resolveSpace(options.space),
    m: integer(options.m, 'm', 2, 256, DEFAULTS.m),
    efConstruction: integer(options.efConstruction, 'efConstruction', 1, 100_000, DEFAULTS.efConstruction),
    seed: integer(options.seed, 'seed', 0, 0xffff_ffff, DEFAULTS.seed),
    initialCapacity: integer(options.initialCapacity, 'initialCapacity', 1, 0x7fff_ffff, DEFAULTS.initialCapacity),
    efSearch: resolveEfSearch(options.efSearch),
  }
}

export function resolveLoadOptions(options: LoadSegmentIndexOptions = {}): { efSearch: number | undefined } {
  return { efSearch: options.efSearch === undefined ? undefined : resolveEfSearch(options.efSearch) }
}

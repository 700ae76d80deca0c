import type { SegmentTable } from './segment-table.ts'

/**
 * A query's filters in the table's terms: interned ids (−1 for "any") and numeric bounds (open ends as
 * ±Infinity). Time semantics: a segment matches [from, to] when it overlaps it.
 */
export interface CompiledFilter {
  entity: number
  regime: number
  from: number
  to: number
  minAnomaly: number
  /** A label never to return (searchLike's own segment), −1 for none. */
  exclude: number
}

/** Whether anything but the self-exclusion restricts the result. */
export function restricts(f: CompiledFilter): boolean {
  return f.entity >= 0 || f.regime >= 0 || f.from > -Infinity || f.to < Infinity || f.minAnomaly > -Infinity
}

export function matches(t: SegmentTable, f: CompiledFilter, label: number): boolean {
  return (
    (f.entity < 0 || t.entity[label] === f.entity) &&
    (f.regime < 0 || t.regime[label] === f.regime) &&
    (t.to[label] as number) >= f.from &&
    (t.from[label] as number) <= f.to &&
    (t.anomaly[label] as number) >= f.minAnomaly &&
    label !== f.exclude
  )
}

/**
 * The filter as hnswlib's callback (called from C++ for each candidate the graph search considers). The
 * columns are read once here, so each call reads typed arrays only; specialised for the common shapes, since
 * every call crosses N-API and the bench shows the callback, not the test, is what costs.
 */
export function filterCallback(t: SegmentTable, f: CompiledFilter): (label: number) => boolean {
  const { entity, regime, from, to, anomaly } = t
  const e = f.entity
  const r = f.regime
  const lo = f.from
  const hi = f.to
  const min = f.minAnomaly
  const x = f.exclude
  const timed = lo > -Infinity || hi < Infinity
  if (r < 0 && !timed && min === -Infinity) {
    if (e >= 0) return (l) => entity[l] === e && l !== x
    return (l) => l !== x
  }
  if (e < 0 && r < 0) return (l) => (to[l] as number) >= lo && (from[l] as number) <= hi && (anomaly[l] as number) >= min && l !== x
  return (l) =>
    (e < 0 || entity[l] === e) &&
    (r < 0 || regime[l] === r) &&
    (to[l] as number) >= lo &&
    (from[l] as number) <= hi &&
    (anomaly[l] as number) >= min &&
    l !== x
}

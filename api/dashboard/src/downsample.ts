/**
 * Which points to draw of a long series: the first and last, the lowest and highest of `values` in each of
 * `buckets` equal runs (so spikes survive), and every index in `keep` (alerts). All of them when few enough.
 * Returns sorted, distinct indices.
 */
export function downsample(values: ArrayLike<number>, buckets: number, keep: Iterable<number> = []): number[] {
  const n = values.length
  if (n <= 2 * buckets) return Array.from({ length: n }, (_, i) => i)
  const picked = new Set<number>([0, n - 1])
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor((b * n) / buckets)
    const end = Math.floor(((b + 1) * n) / buckets)
    let lo = start
    let hi = start
    for (let i = start + 1; i < end; i++) {
      if ((values[i] as number) < (values[lo] as number)) lo = i
      if ((values[i] as number) > (values[hi] as number)) hi = i
    }
    picked.add(lo).add(hi)
  }
  for (const i of keep) if (i >= 0 && i < n) picked.add(i)
  return [...picked].sort((a, b) => a - b)
}

/** The index of the first timestamp at or after `ts` in ascending `times` (`times.length` when none is). */
export function lowerBound(times: ArrayLike<number>, ts: number): number {
  let lo = 0
  let hi = times.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((times[mid] as number) < ts) lo = mid + 1
    else hi = mid
  }
  return lo
}

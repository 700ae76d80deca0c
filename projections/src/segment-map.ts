import type { RestoredSegments, SegmentRecord } from './views.ts'

/**
 * The views' segments by CID. Those restored from a checkpoint join the map on first read (a restart is ready
 * without building them: a vector query, an entity or a count does not read them); segments folded since are
 * added at once. CIDs are unique (each event is folded once), so the two never overlap.
 */
export class SegmentMap {
  readonly #map = new Map<string, SegmentRecord>()
  #restored: RestoredSegments | null

  constructor(restored?: RestoredSegments) {
    this.#restored = restored ?? null
  }

  get size(): number {
    return this.#map.size + (this.#restored?.count ?? 0)
  }

  set(cid: string, record: SegmentRecord): void {
    this.#map.set(cid, record)
  }

  get(cid: string): SegmentRecord | undefined {
    return this.#all().get(cid)
  }

  values(): IterableIterator<SegmentRecord> {
    return this.#all().values()
  }

  #all(): Map<string, SegmentRecord> {
    const restored = this.#restored
    if (restored !== null) {
      this.#restored = null
      for (const record of restored.records()) this.#map.set(record.cid, record)
    }
    return this.#map
  }
}

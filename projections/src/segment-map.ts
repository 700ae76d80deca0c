import type { RestoredSegments, SegmentRecord } from './views.ts'

/**
 * The views' segments, by CID. Those restored from a checkpoint are built on first read (a restart is ready
 * without them: a vector query, an entity or a count does not read them), and indexed by CID only when one is
 * looked up by CID (a scan, a digest or an ingest never does); segments folded since are added at once. CIDs are
 * unique (each event is folded once), so the two never overlap.
 */
export class SegmentMap {
  readonly #added = new Map<string, SegmentRecord>()
  #restored: RestoredSegments | null
  #records: readonly SegmentRecord[] = []
  #byCid: Map<string, SegmentRecord> | null = null

  constructor(restored?: RestoredSegments) {
    this.#restored = restored ?? null
  }

  get size(): number {
    return this.#added.size + (this.#restored?.count ?? this.#records.length)
  }

  set(cid: string, record: SegmentRecord): void {
    this.#added.set(cid, record)
  }

  get(cid: string): SegmentRecord | undefined {
    return this.#added.get(cid) ?? this.#indexed().get(cid)
  }

  *values(): IterableIterator<SegmentRecord> {
    yield* this.#built()
    yield* this.#added.values()
  }

  #built(): readonly SegmentRecord[] {
    if (this.#restored !== null) {
      this.#records = this.#restored.records()
      this.#restored = null
    }
    return this.#records
  }

  #indexed(): Map<string, SegmentRecord> {
    this.#byCid ??= new Map(this.#built().map((record) => [record.cid, record]))
    return this.#byCid
  }
}

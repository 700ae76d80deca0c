/** Records read back from a checkpoint: how many, and the records, built when first asked for. */
export interface Restored<R> {
  readonly count: number
  records(): R[]
}

/**
 * The views' segments, by CID. Those restored from a checkpoint are built on first read (a restart is ready
 * without them: a vector query, an entity or a count does not read them), and indexed by CID only when one is
 * looked up by CID (a scan, a digest or an ingest never does); segments folded since are added at once. CIDs are
 * unique (each event is folded once), so the two never overlap.
 */
export class SegmentMap<R extends { cid: string }> {
  readonly #added = new Map<string, R>()
  #restored: Restored<R> | null
  #records: readonly R[] = []
  #byCid: Map<string, R> | null = null

  constructor(restored?: Restored<R>) {
    this.#restored = restored ?? null
  }

  get size(): number {
    return this.#added.size + (this.#restored?.count ?? this.#records.length)
  }

  set(cid: string, record: R): void {
    this.#added.set(cid, record)
  }

  get(cid: string): R | undefined {
    return this.#added.get(cid) ?? this.#indexed().get(cid)
  }

  *values(): IterableIterator<R> {
    yield* this.#built()
    yield* this.#added.values()
  }

  #built(): readonly R[] {
    if (this.#restored !== null) {
      this.#records = this.#restored.records()
      this.#restored = null
    }
    return this.#records
  }

  #indexed(): Map<string, R> {
    this.#byCid ??= new Map(this.#built().map((record) => [record.cid, record]))
    return this.#byCid
  }
}

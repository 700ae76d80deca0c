import { mkdirSync } from 'node:fs'
import { basename, join } from 'node:path'
import { VsdbError } from '@vsdb/log'
import type { HierarchicalNSW } from 'hnswlib-node'
import {
  checkHnswHeader,
  commitManifest,
  commitWritten,
  corruptCheckpoint,
  FORMAT,
  type Manifest,
  type ManifestFile,
  readManifest,
  readVerified,
  readVerifiedSync,
  removeTemps,
  tempPath,
  VERSION,
  writeContentNamed,
} from './checkpoint-files.ts'
import { RunningDigest } from './digest.ts'
import { DimensionIndex } from './dimension-index.ts'
import { exactScan } from './exact-scan.ts'
import { type CompiledFilter, filterCallback, restricts } from './filter.ts'
import { decodeMeta, encodeMeta, type MetaSnapshot } from './meta-codec.ts'
import { DEFAULTS, type ResolvedOptions, resolveLoadOptions, resolveOptions } from './options.ts'
import { choosePlan } from './plan.ts'
import { SegmentTable } from './segment-table.ts'
import type {
  DimensionStats,
  LoadSegmentIndexOptions,
  SavedSegmentIndex,
  SearchCounters,
  SearchPlan,
  SegmentFilters,
  SegmentHit,
  SegmentIndexOptions,
  SegmentInput,
  SegmentQuery,
  SegmentRecord,
  SegmentSpace,
} from './types.ts'
import { checkFilters, checkK, checkSegment, checkVector } from './validate-input.ts'

/**
 * The vector index of the projections: segment centroids in one HNSW (hnswlib-node) per dimension, with each
 * segment's metadata kept beside it in typed columns, so filters run inside the search.
 */
export interface SegmentIndex {
  readonly space: SegmentSpace
  /** Segments indexed, all dimensions together; also the label the next segment gets. */
  readonly size: number
  dimensions(): DimensionStats[]
  has(cid: string): boolean
  get(cid: string): SegmentRecord | undefined
  /**
   * Adds a sealed segment and returns its label (insertion order). Adding a CID already present returns its
   * label and changes nothing: a fold may see a segment twice.
   */
  add(segment: SegmentInput): number
  /** k nearest segments to a vector, in the index of the vector's dimension, filters applied inside the search. */
  search(query: SegmentQuery): SegmentHit[]
  /** k nearest segments to a segment's centroid, the segment itself left out. */
  searchLike(cid: string, k: number, filters?: SegmentFilters): SegmentHit[]
  /** Writes a checkpoint into `dir` (see checkpoint-files.ts); saves of one index run one after another. */
  save(dir: string): Promise<SavedSegmentIndex>
  /** sha-256 (hex) of the logical content: labels, metadata and centroids in label order (see digest.ts). */
  digest(): string
  counters(): SearchCounters
  /** The HNSW of one dimension, for benches and diagnostics only: adding to it or changing its ef breaks the index. */
  hnsw(dim: number): HierarchicalNSW | undefined
}

export function createSegmentIndex(options: SegmentIndexOptions = {}): SegmentIndex {
  return new HnswSegmentIndex(resolveOptions(options))
}

class HnswSegmentIndex implements SegmentIndex {
  readonly #options: ResolvedOptions
  readonly #table = new SegmentTable()
  readonly #dims = new Map<number, DimensionIndex>()
  #digest: RunningDigest
  /** Labels the running digest covers: all of them, except after a load, until `digest()` first catches up. */
  #hashed = 0
  #saving: Promise<unknown> = Promise.resolve()
  /** Temp files of saves not yet committed, which a sweep after an earlier save must leave alone. */
  readonly #inFlight = new Set<string>()
  readonly #counters: SearchCounters = { queries: 0, unfiltered: 0, hnsw: 0, exact: 0, fallbacks: 0 }

  constructor(options: ResolvedOptions) {
    this.#options = options
    this.#digest = new RunningDigest(options.space)
  }

  get space(): SegmentSpace {
    return this.#options.space
  }

  get size(): number {
    return this.#table.count
  }

  dimensions(): DimensionStats[] {
    return [...this.#dims.values()].map((d) => ({ dim: d.dim, count: d.count, capacity: d.capacity })).sort((a, b) => a.dim - b.dim)
  }

  has(cid: string): boolean {
    return this.#table.labelOf(cid) !== undefined
  }

  get(cid: string): SegmentRecord | undefined {
    const label = this.#table.labelOf(cid)
    return label === undefined ? undefined : this.#record(label)
  }

  counters(): SearchCounters {
    return { ...this.#counters }
  }

  hnsw(dim: number): HierarchicalNSW | undefined {
    return this.#dims.get(dim)?.hnsw
  }

  digest(): string {
    for (let label = this.#hashed; label < this.#table.count; label++) this.#hash(label)
    this.#hashed = this.#table.count
    return this.#digest.hex()
  }

  #hash(label: number): void {
    const t = this.#table
    const centroid = (this.#dims.get(t.dim[label] as number) as DimensionIndex).centroid(t.local[label] as number)
    const regime = t.regimes.name(t.regime[label] as number)
    this.#digest.add(
      t.cids[label] as string,
      t.entities.name(t.entity[label] as number),
      regime,
      t.from[label] as number,
      t.to[label] as number,
      t.anomaly[label] as number,
      centroid,
    )
  }

  add(segment: SegmentInput): number {
    checkSegment(segment)
    const t = this.#table
    const known = t.labelOf(segment.cid)
    if (known !== undefined) return known
    const dim = segment.centroid.length
    const entityId = t.entities.id(segment.entity)
    if (entityId !== undefined && t.entityDims[entityId] !== dim) {
      throw new VsdbError(
        'INVALID_INPUT',
        `entity ${segment.entity} has centroids of dimension ${t.entityDims[entityId]}, this segment's has ${dim}`,
        { field: 'centroid', entity: segment.entity },
      )
    }
    let index = this.#dims.get(dim)
    if (index === undefined) {
      index = DimensionIndex.create(dim, this.#options)
      this.#dims.set(dim, index)
    }
    const label = t.count
    // The HNSW first: if hnswlib throws, nothing else has changed.
    const local = index.add(label, segment.centroid)
    const entity = t.entities.intern(segment.entity)
    if (entity === t.entityDims.length) t.entityDims.push(dim)
    const regime = t.regimes.intern(segment.regime)
    t.append({ cid: segment.cid, entity, regime, from: segment.from, to: segment.to, anomaly: segment.anomaly, dim, local })
    // Hashed now while the digest is up to date, so that `digest()` stays a copy of the hash state.
    if (this.#hashed === label) {
      this.#digest.add(segment.cid, segment.entity, segment.regime, segment.from, segment.to, segment.anomaly, segment.centroid)
      this.#hashed++
    }
    return label
  }

  search(query: SegmentQuery): SegmentHit[] {
    if (query === null || typeof query !== 'object') {
      throw new VsdbError('INVALID_INPUT', 'a query must be an object', { field: 'query' })
    }
    checkFilters(query)
    const vector = checkVector(query.vector, 'vector')
    const index = this.#dims.get(vector.length)
    if (index === undefined) {
      const held = [...this.#dims.keys()].sort((a, b) => a - b)
      throw new VsdbError(
        'INVALID_INPUT',
        held.length === 0
          ? 'the index holds no segments yet'
          : `no segments of dimension ${vector.length}: the index holds dimension${held.length === 1 ? '' : 's'} ${held.join(', ')}`,
        { field: 'vector', dim: vector.length },
      )
    }
    const filter = this.#compile(query, index.dim, -1, 'vector')
    const k = checkK(query.k, index.count)
    return k === 0 ? [] : this.#run(index, vector, k, filter, query.plan ?? 'auto')
  }

  searchLike(cid: string, k: number, filters: SegmentFilters = {}): SegmentHit[] {
    if (typeof cid !== 'string') throw new VsdbError('INVALID_INPUT', 'cid must be a segment CID string', { field: 'cid' })
    const label = this.#table.labelOf(cid)
    if (label === undefined) throw new VsdbError('NOT_FOUND', `no segment ${cid} in the index`, { field: 'cid', cid })
    checkFilters(filters)
    const index = this.#dims.get(this.#table.dim[label] as number) as DimensionIndex
    const filter = this.#compile(filters, index.dim, label, 'entity')
    const checked = checkK(k, index.count - 1)
    if (checked === 0) return []
    const vector = Array.from(index.centroid(this.#table.local[label] as number))
    return this.#run(index, vector, checked, filter, filters.plan ?? 'auto')
  }

  /**
   * The snapshot is taken now, synchronously: the HNSW files (hnswlib's synchronous write, which blocks the
   * event loop while it runs, ≈ 0.1 s per 100k centroids of dimension 32), the metadata and the digest, so
   * the checkpoint is the index as it is when save is called while adds go on. (hnswlib's async writeIndex
   * would write from a worker thread while a concurrent add may resizeIndex, i.e. realloc, under it.) Then,
   * in the background and after any earlier save, the files are fsynced, hashed, renamed and the manifest
   * written.
   */
  async save(dir: string): Promise<SavedSegmentIndex> {
    if (typeof dir !== 'string' || dir.length === 0) throw new VsdbError('INVALID_INPUT', 'dir must be a directory path', { field: 'dir' })
    const temps: string[] = []
    let snapshot: Snapshot
    try {
      mkdirSync(dir, { recursive: true })
      const written = [...this.#dims.values()]
        .sort((a, b) => a.dim - b.dim)
        .map((index) => {
          const tmp = tempPath(dir, `hnsw-${index.dim}`)
          temps.push(tmp)
          this.#inFlight.add(basename(tmp))
          index.hnsw.writeIndexSync(tmp)
          return { dim: index.dim, count: index.count, tmp }
        })
      const digest = this.digest()
      snapshot = { written, meta: encodeMeta(this.#snapshot(digest)), digest, count: this.#table.count }
    } catch (err) {
      await this.#abandon(temps)
      throw writeFailed(dir, err)
    }
    const run = this.#saving.then(() => this.#commit(dir, snapshot, temps))
    this.#saving = run.catch(() => {})
    return run
  }

  /**
   * Restores a checkpoint's metadata into this (empty) index; its HNSWs join with `attach`. Its bytes were checked
   * against their sha-256, so the digest is not recomputed here: `digest()` hashes the restored labels when it is
   * first asked for.
   */
  restore(snapshot: MetaSnapshot & { local: Uint32Array }, dir: string): void {
    const bad = this.#table.restore(snapshot)
    if (bad !== undefined) throw corruptCheckpoint(dir, bad)
  }

  attach(dims: DimensionIndex[]): void {
    for (const index of dims) this.#dims.set(index.dim, index)
  }

  #record(label: number): SegmentRecord {
    const t = this.#table
    const index = this.#dims.get(t.dim[label] as number) as DimensionIndex
    return {
      label,
      cid: t.cids[label] as string,
      entity: t.entities.name(t.entity[label] as number),
      from: t.from[label] as number,
      to: t.to[label] as number,
      anomaly: t.anomaly[label] as number,
      regime: t.regimes.name(t.regime[label] as number),
      centroid: Array.from(index.centroid(t.local[label] as number)),
    }
  }

  #compile(filters: SegmentFilters, dim: number, exclude: number, dimField: string): CompiledFilter {
    const t = this.#table
    let entity = -1
    if (filters.entity !== undefined) {
      const id = t.entities.id(filters.entity)
      if (id === undefined)
        throw new VsdbError('NOT_FOUND', `no segments of entity ${filters.entity}`, { field: 'entity', entity: filters.entity })
      if (t.entityDims[id] !== dim) {
        throw new VsdbError(
          'INVALID_INPUT',
          `entity ${filters.entity} has centroids of dimension ${t.entityDims[id]}, the query's ${dimField === 'vector' ? 'vector has' : 'segment has'} ${dim}`,
          { field: dimField, entity: filters.entity },
        )
      }
      entity = id
    }
    let regime = -1
    if (filters.regime !== undefined) {
      const id = t.regimes.id(filters.regime)
      if (id === undefined) throw new VsdbError('NOT_FOUND', `no segments of regime ${JSON.stringify(filters.regime)}`, { field: 'regime' })
      regime = id
    }
    return {
      entity,
      regime,
      from: filters.from ?? Number.NEGATIVE_INFINITY,
      to: filters.to ?? Number.POSITIVE_INFINITY,
      minAnomaly: filters.minAnomaly ?? Number.NEGATIVE_INFINITY,
      exclude,
    }
  }

  #run(index: DimensionIndex, vector: readonly number[], k: number, filter: CompiledFilter, plan: SearchPlan): SegmentHit[] {
    this.#counters.queries++
    const ef = Math.max(this.#options.efSearch, k)
    const t = this.#table
    if (!restricts(filter) && plan !== 'exact') {
      this.#counters.unfiltered++
      index.setEf(ef)
      if (filter.exclude < 0) return this.#hits(index.hnsw.searchKnn(vector as number[], k))
      // Like a segment, no filter: one more, then drop the segment itself (or the farthest if it did not come back).
      const found = index.hnsw.searchKnn(vector as number[], k + 1)
      const at = found.neighbors.indexOf(filter.exclude)
      if (at >= 0) {
        found.neighbors.splice(at, 1)
        found.distances.splice(at, 1)
      }
      return this.#hits({ neighbors: found.neighbors.slice(0, k), distances: found.distances.slice(0, k) })
    }
    // The smallest list that holds every match: an entity's segments (all of one dimension), else the dimension's.
    const onlyEntity = filter.regime < 0 && filter.from === -Infinity && filter.to === Infinity && filter.minAnomaly === -Infinity
    const candidates = filter.entity >= 0 ? t.entityLabels(filter.entity).view() : index.labels.view()
    let chosen = plan
    if (chosen === 'auto') {
      chosen = choosePlan({
        table: t,
        filter,
        candidates,
        candidatesAreMatches: filter.entity >= 0 && onlyEntity,
        size: index.count,
        dim: index.dim,
        ef,
      }).plan
    }
    if (chosen === 'hnsw') {
      this.#counters.hnsw++
      index.setEf(ef)
      const found = index.hnsw.searchKnn(vector as number[], k, filterCallback(t, filter))
      if (found.neighbors.length === k) return this.#hits(found)
      // Fewer than k passed: either fewer exist, or the graph walk missed some. The scan settles which.
      this.#counters.fallbacks++
    } else {
      this.#counters.exact++
    }
    const ranked = exactScan({
      table: t,
      candidates,
      centroids: index.centroids(),
      dim: index.dim,
      query: vector,
      k,
      space: this.#options.space,
      filter,
    })
    return this.#hits({ neighbors: ranked.labels, distances: ranked.distances })
  }

  #hits(found: { neighbors: ArrayLike<number>; distances: ArrayLike<number> }): SegmentHit[] {
    const labels = found.neighbors
    const t = this.#table
    const out: SegmentHit[] = new Array(labels.length)
    for (let i = 0; i < labels.length; i++) {
      const label = labels[i] as number
      out[i] = {
        cid: t.cids[label] as string,
        entity: t.entities.name(t.entity[label] as number),
        distance: found.distances[i] as number,
        from: t.from[label] as number,
        to: t.to[label] as number,
        anomaly: t.anomaly[label] as number,
        regime: t.regimes.name(t.regime[label] as number),
      }
    }
    return out
  }

  #snapshot(digest: string): MetaSnapshot {
    const t = this.#table
    const n = t.count
    return {
      count: n,
      digest,
      entities: t.entities.names.slice(),
      regimes: t.regimes.names.slice(),
      cids: t.cids.slice(0, n),
      entity: t.entity.subarray(0, n),
      regime: t.regime.subarray(0, n),
      from: t.from.subarray(0, n),
      to: t.to.subarray(0, n),
      anomaly: t.anomaly.subarray(0, n),
      dim: t.dim.subarray(0, n),
      dimensions: [...this.#dims.values()]
        .sort((a, b) => a.dim - b.dim)
        .map((d) => ({ dim: d.dim, labels: d.labels.view(), centroids: d.centroids() })),
    }
  }

  async #commit(dir: string, snapshot: Snapshot, temps: string[]): Promise<SavedSegmentIndex> {
    try {
      const { written, meta, digest, count } = snapshot
      const files: { dim: number; count: number; file: ManifestFile }[] = []
      for (const w of written) {
        await checkHnswHeader(w.tmp, w.count)
        files.push({ dim: w.dim, count: w.count, file: await commitWritten(dir, w.tmp, `hnsw-${w.dim}`) })
      }
      const metaFile = await writeContentNamed(dir, 'meta', meta)
      const { space, m, efConstruction, seed } = this.#options
      const manifest: Manifest = {
        format: FORMAT,
        version: VERSION,
        space,
        m,
        efConstruction,
        seed,
        count,
        digest,
        meta: metaFile,
        dimensions: files,
      }
      const { path, sha256 } = await commitManifest(dir, manifest, this.#inFlight)
      const bytes = metaFile.bytes + files.reduce((sum, f) => sum + f.file.bytes, 0)
      return { dir, manifest: path, manifestSha256: sha256, count, digest, bytes }
    } catch (err) {
      throw writeFailed(dir, err)
    } finally {
      await this.#abandon(temps)
    }
  }

  /** Forgets a save's temp files, removing those still there (all of them, when it failed). */
  async #abandon(temps: string[]): Promise<void> {
    for (const tmp of temps) this.#inFlight.delete(basename(tmp))
    await removeTemps(temps)
  }
}

/** One dimension's HNSW file, checked against its size and sha-256 (here and now), then read by hnswlib in its thread. */
async function readGraph(dir: string, entry: Manifest['dimensions'][number], space: SegmentSpace): Promise<HierarchicalNSW> {
  readVerifiedSync(dir, entry.file)
  try {
    return await DimensionIndex.readGraph(join(dir, entry.file.name), space, entry.dim)
  } catch (err) {
    throw corruptCheckpoint(dir, `hnswlib could not read ${entry.file.name}: ${(err as Error).message}`, entry.file.name)
  }
}

interface Snapshot {
  written: { dim: number; count: number; tmp: string }[]
  meta: Uint8Array
  digest: string
  count: number
}

function writeFailed(dir: string, err: unknown): VsdbError {
  if (err instanceof VsdbError) return err
  return new VsdbError(
    'WRITE_FAILED',
    `could not write the segment index checkpoint in ${dir}: ${(err as Error).message}`,
    { field: 'dir', dir },
    { cause: err },
  )
}

/**
 * Loads a checkpoint written by `save`, trusting nothing the manifest does not vouch for: the manifest's own check
 * (and its sha-256, when an outer checkpoint recorded it), each file's size and sha-256, the metadata's internal
 * consistency and the digest it was saved with, each HNSW's element count. The bytes being the ones save wrote,
 * the content's digest is not recomputed here: `digest()` hashes it when first asked. Throws NOT_FOUND when there is no checkpoint, CORRUPT_BLOCK when it is damaged or partial
 * (VERSION_TOO_NEW when a newer format): the caller then replays the log instead.
 *
 * One difference from a replay: hnswlib does not save its level generator's state, so segments added after a
 * load get other random levels than they would in an index built in one go. The digest is the same; the graph,
 * and so an approximate search's result at the margin, may differ.
 */
export async function loadSegmentIndex(dir: string, options: LoadSegmentIndexOptions = {}): Promise<SegmentIndex> {
  if (typeof dir !== 'string' || dir.length === 0) throw new VsdbError('INVALID_INPUT', 'dir must be a directory path', { field: 'dir' })
  const { efSearch } = resolveLoadOptions(options)
  const manifest = readManifest(dir, options.manifestSha256)
  const resolved = resolveOptions({
    space: manifest.space,
    m: manifest.m,
    efConstruction: manifest.efConstruction,
    seed: manifest.seed,
    efSearch: efSearch ?? DEFAULTS.efSearch,
  })
  // Each graph is checked against its hash, then read by hnswlib in a worker thread while the metadata is decoded here.
  const graphs = Promise.all(manifest.dimensions.map((entry) => readGraph(dir, entry, resolved.space)))
  graphs.catch(() => {}) // awaited below, after the metadata (whose failure would otherwise leave it unhandled)
  const snapshot = decodeMeta(await readVerified(dir, manifest.meta), manifest.meta.name)
  if (snapshot.count !== manifest.count)
    throw corruptCheckpoint(dir, `the metadata holds ${snapshot.count} segments, the manifest says ${manifest.count}`)
  if (snapshot.digest !== manifest.digest) throw corruptCheckpoint(dir, `the metadata's digest is not the manifest's`)
  const listed = manifest.dimensions.map((d) => `${d.dim}:${d.count}`).join(',')
  const held = snapshot.dimensions.map((d) => `${d.dim}:${d.labels.length}`).join(',')
  if (listed !== held) throw corruptCheckpoint(dir, `the metadata's dimensions (${held}) are not the manifest's (${listed})`)
  // The table is filled while hnswlib still reads the graphs in its thread.
  const index = new HnswSegmentIndex(resolved)
  index.restore(snapshot, dir)
  const dims = (await graphs).map((hnsw, i) => {
    const entry = manifest.dimensions[i] as Manifest['dimensions'][number]
    const part = snapshot.dimensions[i] as MetaSnapshot['dimensions'][number]
    // The count only: the file is the one save wrote (its sha-256 is checked), from the same moment as the metadata.
    if (hnsw.getCurrentCount() !== entry.count) {
      throw corruptCheckpoint(dir, `${entry.file.name} does not hold the count of labels the metadata lists`, entry.file.name)
    }
    return DimensionIndex.fromGraph(hnsw, entry.dim, part.labels, part.centroids, resolved.efSearch)
  })
  index.attach(dims)
  return index
}

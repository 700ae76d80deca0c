/**
 * The segment index's k-NN queries against raw hnswlib-node on the SAME index, in the same process:
 *   1. build: 100k centroids of dimension 32 (100 gaussian clusters, seeded) through `add`, and the same points
 *      through raw `addPoint` into a second HNSW with the same parameters (the two graphs must be identical);
 *   2. 1,000 queries, k = 10: `search` vs raw `searchKnn` — unfiltered, with an entity filter (1 of 50
 *      entities) and with a time range + min anomaly filter (a few %), the same filter on both sides (raw gets
 *      it as hnswlib's filter callback) — per-query latency p50 / p99 / mean (each query's best of 5 passes),
 *      and recall@10 vs brute force;
 *   3. the plan sweep: a filter's two ways (graph search with the filter callback, exact scan of the matches)
 *      across selectivities, and which one `auto` picks;
 *   4. checkpoint save / load and digest times.
 * Goals (issue 4): ours ≤ 1.2× raw on mean latency, recall@10 ≥ 0.95, with and without a filter.
 *
 *   npm run bench -- query [--quick]
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { availableParallelism, loadavg } from 'node:os'
import { join } from 'node:path'
import {
  createSegmentIndex,
  loadSegmentIndex,
  type SearchPlan,
  type SegmentFilters,
  type SegmentHit,
  type SegmentIndex,
  type SegmentInput,
} from '@vsdb/projections'
import type { FilterFunction } from 'hnswlib-node'
import hnswlib from 'hnswlib-node'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { seeded as prng } from './lib/observation-data.ts'
import { settle, TempDirs } from './lib/report.ts'

interface Sizes {
  n: number
  queries: number
  sweepQueries: number
  /** Passes over the queries; each query's latency is its median. */
  reps: number
  /** Passes of each plan in the sweep (the best pass counts). */
  sweepReps: number
}

const FULL: Sizes = { n: 100_000, queries: 1_000, sweepQueries: 100, reps: 5, sweepReps: 5 }
const QUICK: Sizes = { n: 10_000, queries: 200, sweepQueries: 50, reps: 3, sweepReps: 3 }
const DIM = 32
const CLUSTERS = 100
const ENTITIES = 50
const REGIMES = 8
const K = 10
const HOUR = 3_600_000
const T0 = 1_700_000_000_000
/** The index's defaults, which the raw build copies: M, efConstruction, seed, initial capacity. */
const M = 16
const EF_CONSTRUCTION = 100
const SEED = 100
const INITIAL_CAPACITY = 1024
const EF_SEARCH = 64
/** The counters that say which way our queries ran. */
const COUNTED = ['unfiltered', 'hnsw', 'exact', 'fallbacks'] as const
/** Untimed queries after each forced GC, before a timed pass. */
const REWARM = 20

interface Data {
  segments: SegmentInput[]
  /** Row-major centroids, for brute force. */
  flat: Float64Array
  entity: Int32Array
  from: Float64Array
  to: Float64Array
  anomaly: Float64Array
  queries: number[][]
  windows: number
  labelOf: Map<string, number>
}

/** Clustered centroids: 100 centres in [-5, 5]^32, each with its own spread; entities take turns, hour windows. */
function makeData(n: number, queries: number): Data {
  const rnd = prng(42)
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd())
  const centers = Array.from({ length: CLUSTERS }, () => Array.from({ length: DIM }, () => rnd() * 10 - 5))
  const spreads = Array.from({ length: CLUSTERS }, () => 0.6 + rnd())
  const point = (): { cluster: number; v: number[] } => {
    const cluster = Math.floor(rnd() * CLUSTERS)
    const c = centers[cluster] as number[]
    const s = spreads[cluster] as number
    return { cluster, v: c.map((x) => x + s * gauss()) }
  }
  const flat = new Float64Array(n * DIM)
  const entity = new Int32Array(n)
  const from = new Float64Array(n)
  const to = new Float64Array(n)
  const anomaly = new Float64Array(n)
  const labelOf = new Map<string, number>()
  const segments: SegmentInput[] = new Array(n)
  for (let i = 0; i < n; i++) {
    const { cluster, v } = point()
    const e = i % ENTITIES
    const start = T0 + Math.floor(i / ENTITIES) * HOUR
    const a = rnd() ** 4
    const cid = CID.createV1(0x71, Digest.create(0x12, createHash('sha256').update(`segment ${i}`).digest())).toString()
    segments[i] = {
      cid,
      entity: `vehicle-${String(e).padStart(2, '0')}`,
      from: start,
      to: start + HOUR - 1,
      anomaly: a,
      regime: `regime-${cluster % REGIMES}`,
      centroid: v,
    }
    flat.set(v, i * DIM)
    entity[i] = e
    from[i] = start
    to[i] = start + HOUR - 1
    anomaly[i] = a
    labelOf.set(cid, i)
  }
  return {
    segments,
    flat,
    entity,
    from,
    to,
    anomaly,
    queries: Array.from({ length: queries }, () => point().v),
    windows: Math.ceil(n / ENTITIES),
    labelOf,
  }
}

/** Exact k-NN over the labels `accept` keeps: squared L2, as hnswlib's l2. */
function brute(data: Data, q: readonly number[], k: number, accept: (label: number) => boolean): number[] {
  const n = data.segments.length
  const flat = data.flat
  const bestD: number[] = []
  const bestL: number[] = []
  for (let l = 0; l < n; l++) {
    if (!accept(l)) continue
    let d = 0
    const o = l * DIM
    for (let j = 0; j < DIM; j++) {
      const x = (q[j] as number) - (flat[o + j] as number)
      d += x * x
    }
    if (bestD.length === k && d >= (bestD[k - 1] as number)) continue
    let at = bestD.length
    while (at > 0 && (bestD[at - 1] as number) > d) at--
    bestD.splice(at, 0, d)
    bestL.splice(at, 0, l)
    if (bestD.length > k) {
      bestD.pop()
      bestL.pop()
    }
  }
  return bestL
}

/** A query's filter, once for our `search` and once as the raw callback over the bench's own arrays. */
interface Filtered {
  ours: SegmentFilters
  raw: FilterFunction | undefined
  accept: (label: number) => boolean
}

function noFilter(): Filtered {
  const all = (): boolean => true
  return { ours: {}, raw: undefined, accept: all }
}

function entityFilter(data: Data, j: number): Filtered {
  const e = j % ENTITIES
  const entity = data.entity
  const accept = (l: number): boolean => entity[l] === e
  return { ours: { entity: `vehicle-${String(e).padStart(2, '0')}` }, raw: accept, accept }
}

/** A time range of a quarter of the timeline (placed by the query's seed) and anomaly ≥ `min`. */
function timeAnomalyFilter(data: Data, j: number, min: number, span = 0.25): Filtered {
  const rnd = prng(1_000 + j)
  const width = Math.max(1, Math.floor(data.windows * span))
  const startWindow = Math.floor(rnd() * (data.windows - width + 1))
  const lo = T0 + startWindow * HOUR
  const hi = lo + width * HOUR - 1
  const { from, to, anomaly } = data
  const accept = (l: number): boolean => (to[l] as number) >= lo && (from[l] as number) <= hi && (anomaly[l] as number) >= min
  return { ours: { from: lo, to: hi, minAnomaly: min }, raw: accept, accept }
}

function anomalyFilter(data: Data, min: number): Filtered {
  const anomaly = data.anomaly
  const accept = (l: number): boolean => (anomaly[l] as number) >= min
  return { ours: { minAnomaly: min }, raw: accept, accept }
}

interface Latency {
  p50: number
  p99: number
  mean: number
}

function latency(micros: number[]): Latency {
  const sorted = [...micros].sort((a, b) => a - b)
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number
  return { p50: at(0.5), p99: at(0.99), mean: micros.reduce((s, x) => s + x, 0) / micros.length }
}

function recallOf(found: number[][], truth: number[][]): number {
  let hit = 0
  let want = 0
  for (let i = 0; i < truth.length; i++) {
    const t = new Set(truth[i])
    want += t.size
    for (const l of found[i] as number[]) if (t.has(l)) hit++
  }
  return want === 0 ? 1 : hit / want
}

interface ScenarioRow {
  scenario: string
  side: string
  p50: number
  p99: number
  mean: number
  ratio: number | null
  recall: number
  selectivity: number
  goalMet: boolean | null
}

/**
 * Ours and raw over all the queries, each side in a pass of its own (so neither runs with the caches the
 * other left), after a warm-up pass of both; `reps` rounds, which side goes first alternating. A query's
 * latency is its best over the rounds: the bench machine is shared (other tenants' load shows in the
 * header), and the least disturbed run is the best estimate of what the code costs. (CPU time is no better
 * here: getrusage counts in scheduler ticks.) Per-query latencies in µs, and the labels found.
 */
function race(
  data: Data,
  index: SegmentIndex,
  raw: InstanceType<typeof hnswlib.HierarchicalNSW>,
  filters: Filtered[],
  plan: SearchPlan,
  reps: number,
): {
  ours: number[]
  raw: number[]
  ran: Record<(typeof COUNTED)[number], number>
  oursFound: number[][]
  rawFound: number[][]
} {
  const qs = data.queries.slice(0, filters.length)
  const runOurs = (i: number): SegmentHit[] => index.search({ vector: qs[i] as number[], k: K, ...(filters[i] as Filtered).ours, plan })
  const runRaw = (i: number): number[] => {
    const f = (filters[i] as Filtered).raw
    return (f === undefined ? raw.searchKnn(qs[i] as number[], K) : raw.searchKnn(qs[i] as number[], K, f)).neighbors
  }
  for (let i = 0; i < qs.length; i++) {
    runOurs(i)
    runRaw(i)
  }
  const oursTimes = qs.map(() => new Array<number>(reps))
  const rawTimes = qs.map(() => new Array<number>(reps))
  const oursHits: SegmentHit[][] = new Array(qs.length)
  const rawFound: number[][] = new Array(qs.length)
  const ran: Record<(typeof COUNTED)[number], number> = { unfiltered: 0, hnsw: 0, exact: 0, fallbacks: 0 }
  for (let rep = 0; rep < reps; rep++) {
    for (const side of rep % 2 === 0 ? ['ours', 'raw'] : ['raw', 'ours']) {
      settle()
      // A forced full GC leaves the caches cold and may drop optimised code: a few untimed queries first.
      for (let i = 0; i < Math.min(REWARM, qs.length); i++) side === 'ours' ? runOurs(i) : runRaw(i)
      const countersBefore = index.counters()
      for (let i = 0; i < qs.length; i++) {
        if (side === 'ours') {
          const start = performance.now()
          const hits = runOurs(i)
          ;(oursTimes[i] as number[])[rep] = (performance.now() - start) * 1000
          oursHits[i] = hits
        } else {
          const start = performance.now()
          const found = runRaw(i)
          ;(rawTimes[i] as number[])[rep] = (performance.now() - start) * 1000
          rawFound[i] = found
        }
      }
      if (side === 'ours' && rep === 0) {
        const after = index.counters()
        for (const key of COUNTED) ran[key] = after[key] - countersBefore[key]
      }
    }
  }
  const best = (xs: number[]): number => Math.min(...xs)
  return {
    ours: oursTimes.map(best),
    raw: rawTimes.map(best),
    ran,
    oursFound: oursHits.map((hits) => hits.map((h) => data.labelOf.get(h.cid) as number)),
    rawFound,
  }
}

function selectivityOf(data: Data, filters: Filtered[]): number {
  const n = data.segments.length
  let kept = 0
  for (const f of filters) for (let l = 0; l < n; l++) if (f.accept(l)) kept++
  return kept / (n * filters.length)
}

function scenario(
  rows: ScenarioRow[],
  name: string,
  data: Data,
  index: SegmentIndex,
  raw: InstanceType<typeof hnswlib.HierarchicalNSW>,
  filters: Filtered[],
  plans: SearchPlan[],
  reps: number,
): void {
  const qs = data.queries.slice(0, filters.length)
  const truth = qs.map((q, i) => brute(data, q, K, (filters[i] as Filtered).accept))
  const selectivity = filters[0]?.raw === undefined ? 1 : selectivityOf(data, filters)
  for (const [p, plan] of plans.entries()) {
    const r = race(data, index, raw, filters, plan, reps)
    const ours = latency(r.ours)
    const rawLat = latency(r.raw)
    const ratio = ours.mean / rawLat.mean
    if (p === 0) {
      rows.push({
        scenario: name,
        side: 'raw searchKnn',
        ...rawLat,
        ratio: null,
        recall: recallOf(r.rawFound, truth),
        selectivity,
        goalMet: null,
      })
    }
    const ran = COUNTED.filter((key) => r.ran[key] > 0)
      .map((key) => `${key} ${r.ran[key]}`)
      .join(', ')
    const recall = recallOf(r.oursFound, truth)
    const goalMet = plan === 'auto' ? ratio <= 1.2 && recall >= 0.95 : null
    rows.push({
      scenario: name,
      side: `ours search, plan ${plan} (${ran})`,
      ...ours,
      ratio,
      recall,
      selectivity,
      goalMet,
    })
    console.error(
      `  ${name} / ${plan}: ours ${ours.mean.toFixed(1)} µs vs raw ${rawLat.mean.toFixed(1)} µs mean (${ratio.toFixed(2)}×), recall ${recall.toFixed(4)}`,
    )
  }
}

interface SweepRow {
  filter: string
  selectivity: number
  exactMicros: number
  hnswMicros: number
  autoMicros: number
  autoPlan: string
  faster: string
  autoPickedFaster: boolean
  hnswRecall: number
}

const PLANS: SearchPlan[] = ['exact', 'hnsw', 'auto']

/**
 * Each plan over all the queries in a pass of its own (the order of the passes rotating), `reps` rounds after
 * a warm-up: mean µs per query of the best (least disturbed) pass, and how auto's runs split between plans.
 */
function planTimes(
  index: SegmentIndex,
  qs: number[][],
  filters: Filtered[],
  reps: number,
): { micros: Record<SearchPlan, number>; autoExact: number; autoHnsw: number } {
  const run = (plan: SearchPlan, j: number): void => {
    index.search({ vector: qs[j] as number[], k: K, ...(filters[j] as Filtered).ours, plan })
  }
  for (let j = 0; j < qs.length; j++) for (const plan of PLANS) run(plan, j)
  const passes = PLANS.map(() => [] as number[])
  let autoExact = 0
  let autoHnsw = 0
  for (let rep = 0; rep < reps; rep++) {
    for (let p = 0; p < PLANS.length; p++) {
      const at = (p + rep) % PLANS.length
      const plan = PLANS[at] as SearchPlan
      settle()
      for (let j = 0; j < Math.min(REWARM, qs.length); j++) run(plan, j)
      const before = index.counters()
      const start = performance.now()
      for (let j = 0; j < qs.length; j++) run(plan, j)
      ;(passes[at] as number[]).push(((performance.now() - start) * 1000) / qs.length)
      if (plan === 'auto') {
        const after = index.counters()
        autoExact += after.exact - before.exact
        autoHnsw += after.hnsw - before.hnsw
      }
    }
  }
  const best = (xs: number[]): number => Math.min(...xs)
  return {
    micros: { exact: best(passes[0] as number[]), hnsw: best(passes[1] as number[]), auto: best(passes[2] as number[]) },
    autoExact: autoExact / reps,
    autoHnsw: autoHnsw / reps,
  }
}

/** Each plan alone over the same queries, at a range of selectivities. */
function sweep(data: Data, index: SegmentIndex, count: number, reps: number): SweepRow[] {
  const sorted = Float64Array.from(data.anomaly).sort()
  const quantile = (p: number): number => sorted[Math.floor(p * (sorted.length - 1))] as number
  const cases: [string, (j: number) => Filtered][] = [
    ...[0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.001].map(
      (p) => [`anomaly ≥ q${(100 * (1 - p)).toFixed(1)}`, () => anomalyFilter(data, quantile(1 - p))] as [string, (j: number) => Filtered],
    ),
    ['entity (own list)', (j) => entityFilter(data, j)],
    ['time 25 % + anomaly ≥ 0.3', (j) => timeAnomalyFilter(data, j, 0.3)],
    ['time 5 %', (j) => timeAnomalyFilter(data, j, 0, 0.05)],
  ]
  const rows: SweepRow[] = []
  const qs = data.queries.slice(0, count)
  for (const [name, make] of cases) {
    const filters = qs.map((_, j) => make(j))
    const selectivity = selectivityOf(data, filters)
    const truth = qs.map((q, j) => brute(data, q, K, (filters[j] as Filtered).accept))
    const { micros, autoExact, autoHnsw } = planTimes(index, qs, filters, reps)
    const exactMicros = micros.exact
    const hnswMicros = micros.hnsw
    const autoMicros = micros.auto
    const autoPlan = autoExact === 0 ? 'hnsw' : autoHnsw === 0 ? 'exact' : `mixed (${autoExact} exact)`
    const faster = exactMicros <= hnswMicros ? 'exact' : 'hnsw'
    const found = qs.map((q, j) =>
      index.search({ vector: q, k: K, ...(filters[j] as Filtered).ours, plan: 'hnsw' }).map((h) => data.labelOf.get(h.cid) as number),
    )
    const row: SweepRow = {
      filter: name,
      selectivity,
      exactMicros,
      hnswMicros,
      autoMicros,
      autoPlan,
      faster,
      // Right when auto ran the plan that measured faster, or when the two are within 15 % (near the crossing,
      // where either is fine and the estimate may split the queries).
      autoPickedFaster: autoPlan === faster || Math.max(exactMicros, hnswMicros) <= 1.15 * Math.min(exactMicros, hnswMicros),
      hnswRecall: recallOf(found, truth),
    }
    rows.push(row)
    console.error(
      `  sweep ${name}: p=${(100 * selectivity).toFixed(2)} %, exact ${exactMicros.toFixed(0)} µs, hnsw ${hnswMicros.toFixed(0)} µs, auto ${autoMicros.toFixed(0)} µs (${autoPlan})`,
    )
  }
  return rows
}

async function fileSha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex')
}

function load(): string {
  return loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')
}

const round = (x: number, digits = 1): number => Number(x.toFixed(digits))

export async function main(args: string[]): Promise<void> {
  const quick = args.includes('--quick')
  const unknown = args.filter((a) => a !== '--quick')
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown[0]}; usage: npm run bench -- query [--quick]`)
  const sizes = quick ? QUICK : FULL
  const tmp = new TempDirs()
  const loadBefore = load()
  console.error(
    `query bench${quick ? ' (quick)' : ''}: node ${process.version}, ${availableParallelism()} cores, load ${loadBefore}; ` +
      `${sizes.n} centroids of dimension ${DIM}, ${sizes.queries} queries, k = ${K}`,
  )
  try {
    const data = makeData(sizes.n, sizes.queries)

    // 1. Build: ours through add, raw through addPoint with the same parameters, doubling the same way.
    console.error('1. build')
    settle()
    const index = createSegmentIndex()
    let start = performance.now()
    for (const s of data.segments) index.add(s)
    const oursBuild = (performance.now() - start) / 1000
    const raw = index.hnsw(DIM)
    if (raw === undefined) throw new Error('no HNSW of dimension 32')
    settle()
    const twin = new hnswlib.HierarchicalNSW('l2', DIM)
    twin.initIndex(INITIAL_CAPACITY, M, EF_CONSTRUCTION, SEED, false)
    start = performance.now()
    let capacity = INITIAL_CAPACITY
    for (let i = 0; i < sizes.n; i++) {
      if (i === capacity) {
        capacity *= 2
        twin.resizeIndex(capacity)
      }
      twin.addPoint((data.segments[i] as SegmentInput).centroid as number[], i)
    }
    const rawBuild = (performance.now() - start) / 1000
    const dir = await tmp.make('query')
    raw.writeIndexSync(join(dir, 'ours.bin'))
    twin.writeIndexSync(join(dir, 'raw.bin'))
    const identicalGraphs = (await fileSha256(join(dir, 'ours.bin'))) === (await fileSha256(join(dir, 'raw.bin')))
    console.error(`  ours ${oursBuild.toFixed(2)} s, raw ${rawBuild.toFixed(2)} s, identical graphs: ${identicalGraphs}`)
    const rss = process.memoryUsage().rss

    // 2. Queries: ours vs raw on the same index.
    console.error('2. queries')
    const n = sizes.queries
    const rows: ScenarioRow[] = []
    scenario(rows, 'no filter', data, index, raw, Array.from({ length: n }, noFilter), ['auto'], sizes.reps)
    scenario(
      rows,
      'entity (1 of 50)',
      data,
      index,
      raw,
      Array.from({ length: n }, (_, j) => entityFilter(data, j)),
      ['auto', 'hnsw'],
      sizes.reps,
    )
    scenario(
      rows,
      'time 25 % + anomaly ≥ 0.3',
      data,
      index,
      raw,
      Array.from({ length: n }, (_, j) => timeAnomalyFilter(data, j, 0.3)),
      ['auto', 'hnsw'],
      sizes.reps,
    )

    // 3. The plan sweep.
    console.error('3. plan sweep')
    const plans = sweep(data, index, sizes.sweepQueries, sizes.sweepReps)

    // 4. Checkpoint.
    console.error('4. checkpoint')
    settle()
    start = performance.now()
    const digest = index.digest()
    const digestMs = performance.now() - start
    start = performance.now()
    const saved = await index.save(join(dir, 'checkpoint'))
    const saveMs = performance.now() - start
    settle()
    start = performance.now()
    const loaded = await loadSegmentIndex(join(dir, 'checkpoint'))
    const loadMs = performance.now() - start
    const probe = data.queries[0] as number[]
    const sameResults = JSON.stringify(loaded.search({ vector: probe, k: K })) === JSON.stringify(index.search({ vector: probe, k: K }))
    const checkpoint = {
      saveMs: round(saveMs),
      loadMs: round(loadMs),
      digestMs: round(digestMs, 3),
      bytes: saved.bytes,
      sameDigest: loaded.digest() === digest,
      sameResults,
    }

    const loadAfter = load()
    console.log(
      `\nquery bench${quick ? ' (quick)' : ''}: node ${process.version}, ${availableParallelism()} cores, load ${loadBefore} → ${loadAfter}; ` +
        `${sizes.n} centroids of dimension ${DIM} in ${CLUSTERS} clusters, ${n} queries, k = ${K}, efSearch ${EF_SEARCH}; ` +
        `latency = each query's best of ${sizes.reps} passes`,
    )
    console.log(
      `build: ours ${oursBuild.toFixed(2)} s (${Math.round(sizes.n / oursBuild).toLocaleString('en-US')}/s), raw addPoint ${rawBuild.toFixed(2)} s ` +
        `(${(oursBuild / rawBuild).toFixed(2)}×); identical graphs: ${identicalGraphs}; RSS ${(rss / 2 ** 20).toFixed(0)} MB`,
    )
    console.table(
      rows.map((r) => ({
        scenario: r.scenario,
        side: r.side,
        'p50 µs': round(r.p50),
        'p99 µs': round(r.p99),
        'mean µs': round(r.mean),
        'vs raw (mean)': r.ratio === null ? 'baseline' : `${r.ratio.toFixed(2)}×`,
        'recall@10': Number(r.recall.toFixed(4)),
        selectivity: `${(100 * r.selectivity).toFixed(2)} %`,
        goal: r.goalMet === null ? '' : `≤ 1.2×, ≥ 0.95${r.goalMet ? ' ✓' : ' ✗'}`,
      })),
    )
    console.log(`plans by selectivity (ours, mean µs per query, best of ${sizes.sweepReps} passes of ${sizes.sweepQueries} queries):`)
    console.table(
      plans.map((p) => ({
        filter: p.filter,
        selectivity: `${(100 * p.selectivity).toFixed(2)} %`,
        'exact scan': round(p.exactMicros),
        'hnsw + callback': round(p.hnswMicros),
        'hnsw recall': Number(p.hnswRecall.toFixed(4)),
        auto: round(p.autoMicros),
        'auto chose': p.autoPlan,
        'auto ok': p.autoPickedFaster ? '✓' : '✗',
      })),
    )
    console.log(
      `checkpoint: save ${checkpoint.saveMs} ms, load ${checkpoint.loadMs} ms (${(checkpoint.bytes / 2 ** 20).toFixed(1)} MB), ` +
        `digest ${checkpoint.digestMs} ms; same digest ${checkpoint.sameDigest}, same results ${checkpoint.sameResults}`,
    )
    const goals = rows.filter((r) => r.goalMet !== null)
    const summary = {
      bench: 'query',
      quick,
      node: process.version,
      cores: availableParallelism(),
      loadBefore,
      loadAfter,
      n: sizes.n,
      dim: DIM,
      clusters: CLUSTERS,
      entities: ENTITIES,
      queries: n,
      k: K,
      latency: `each query's best of ${sizes.reps} passes (µs); plans: mean µs per query of the best of ${sizes.sweepReps} passes`,
      build: { oursSeconds: oursBuild, rawSeconds: rawBuild, ratio: oursBuild / rawBuild, identicalGraphs, rssBytes: rss },
      results: rows,
      plans,
      checkpoint,
      goalsMet: goals.every((r) => r.goalMet === true) && identicalGraphs && checkpoint.sameDigest && checkpoint.sameResults,
    }
    console.log(JSON.stringify(summary))
  } finally {
    await tmp.removeAll()
  }
}

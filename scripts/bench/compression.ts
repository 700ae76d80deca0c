/**
 * The segment codecs (engine/src/codec) on every NAB series and on generated high-rate telemetry:
 *   1. NAB, cut into 256-point segments, each stored as its own block: bytes per point and ratio vs raw
 *      (16 B/point: an 8-byte timestamp and an 8-byte float64 per value) for the lossless codec and the lossy
 *      one at 1 % and 0.1 % of the series' range; the largest error seen (as a fraction of the bound); and the
 *      order-0 entropy limit of the 1 %-quantised series computed here on the same values;
 *   2. encode and decode throughput on one core (1-d NAB, and 16-d telemetry);
 *   3. the summary ratio: what the index and the peers hold per segment — the segment event without its
 *      payload block (DAG-CBOR payload + ~215 bytes of envelope and signature) — vs the raw observations it
 *      covers, on NAB and on 16-d telemetry at 50 Hz.
 * Prints the tables, then one JSON line.
 *
 *   npm run bench -- compression [--quick]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  createCodecHints,
  decodeSegment,
  type EncodeOptions,
  encodeSegment,
  LOSSLESS_CODEC,
  LOSSY_CODEC,
  type SegmentObservations,
} from '@vsdb/engine'
import { cidFor, encodeBlock, payloadSchemas, RAW } from '@vsdb/log'
import { seeded as prng } from './lib/observation-data.ts'
import { fmtRate, type Measured, medianRun, settle } from './lib/report.ts'

/** `<repo>/../shared/data/nab`, wherever the repository is. */
const NAB = fileURLToPath(new URL('../../../shared/data/nab/', import.meta.url))
const SEGMENT = 256
const RAW_TIMESTAMP_BYTES = 8
const RAW_VALUE_BYTES = 8
/** Envelope (v, type, node, seq, ts, prev) and the Ed25519 signature around a segment payload, in bytes. */
const ENVELOPE_BYTES = 215
const GOALS = { lossyMedianRatio: 50, ofLimit: 0.8, losslessBytesPerPoint: 1.0, obsPerSecond: 300_000 }

interface Sizes {
  /** NAB series used (all of them in a full run). */
  series: number
  /** Timed passes over the NAB segments; the median is reported. */
  repeats: number
  /** Telemetry: entities, and seconds of 50 Hz data per entity. */
  entities: number
  seconds: number
}

const FULL: Sizes = { series: Number.POSITIVE_INFINITY, repeats: 5, entities: 3, seconds: 3600 }
const QUICK: Sizes = { series: 6, repeats: 1, entities: 1, seconds: 120 }

interface Series {
  name: string
  ts: number[]
  values: number[]
}

interface SeriesRow {
  series: string
  points: number
  losslessBytesPerPoint: number
  losslessRatio: number
  lossy1Ratio: number
  lossy1MaxError: number
  /** Order-0 entropy limit of the 1 %-quantised values, as a ratio vs raw (null when the series is constant). */
  limit1Ratio: number | null
  /** lossy1Ratio / limit1Ratio. */
  ofLimit: number | null
  lossy01Ratio: number
  lossy01MaxError: number
  summaryRatio: number
  /** Mean bytes of a segment event (payload + envelope), and raw vs that plus the lossy 1 % block. */
  summaryBytes: number
  storedRatio: number
}

export async function main(args: string[]): Promise<void> {
  const quick = args.includes('--quick')
  const unknown = args.filter((a) => a !== '--quick')
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown[0]}; usage: npm run bench -- compression [--quick]`)
  const sizes = quick ? QUICK : FULL
  const loadBefore = load()
  const started = performance.now()
  console.error(`compression bench${quick ? ' (quick)' : ''}: node ${process.version}, ${availableParallelism()} cores, load ${loadBefore}`)

  // 1. NAB: sizes, errors and limits per series.
  const all = csvFiles(NAB).map(readSeries)
  check(all.length > 0, `NAB series under ${NAB}`)
  // A quick run takes a spread of series (every k-th), not the first few of one folder.
  const every = Math.max(1, Math.ceil(all.length / Math.min(all.length, sizes.series)))
  const chosen = all.filter((_, i) => i % every === 0)
  console.error(`1. NAB: ${chosen.length} series, ${SEGMENT}-point segments`)
  const rows = chosen.map(measureSeries)
  const med = {
    losslessBytesPerPoint: median(rows.map((r) => r.losslessBytesPerPoint)),
    losslessRatio: median(rows.map((r) => r.losslessRatio)),
    lossy1Ratio: median(rows.map((r) => r.lossy1Ratio)),
    limit1Ratio: median(rows.map((r) => r.limit1Ratio ?? Number.POSITIVE_INFINITY)),
    ofLimit: median(rows.flatMap((r) => (r.ofLimit === null ? [] : [r.ofLimit]))),
    lossy01Ratio: median(rows.map((r) => r.lossy01Ratio)),
    summaryRatio: median(rows.map((r) => r.summaryRatio)),
    summaryBytes: median(rows.map((r) => r.summaryBytes)),
    storedRatio: median(rows.map((r) => r.storedRatio)),
  }
  const maxError1 = Math.max(...rows.map((r) => r.lossy1MaxError))
  const maxError01 = Math.max(...rows.map((r) => r.lossy01MaxError))

  // 2. Throughput on one core, 1-d NAB.
  console.error('2. throughput, one core')
  const nabSegments = chosen.flatMap((s) => segments(s).map((seg) => ({ seg, range: rangeOf(s.values) })))
  const throughput = {
    lossless: throughputOf(
      nabSegments.map(({ seg }) => ({ seg, options: { codec: LOSSLESS_CODEC } })),
      sizes.repeats,
    ),
    lossy1: throughputOf(
      chosen.flatMap((s) => {
        const options = lossy([0.01 * rangeOf(s.values)])
        return segments(s).map((seg) => ({ seg, options }))
      }),
      sizes.repeats,
    ),
  }

  // 3. Telemetry: 16-d at 50 Hz, sealed by count (the default, 256) and by one-minute windows.
  console.error(`3. telemetry: ${sizes.entities} entities × ${sizes.seconds} s of 16-d vectors at 50 Hz`)
  const telemetry = Array.from({ length: sizes.entities }, (_, e) => telemetryFor(e, sizes.seconds))
  const byCount = measureTelemetry(telemetry, SEGMENT)
  const byMinute = measureTelemetry(telemetry, 50 * 60)
  const telemetryThroughput = throughputOf(
    telemetry.flatMap((t) => {
      const options = lossy(t.bounds)
      return cut(t, SEGMENT).map((seg) => ({ seg, options }))
    }),
    Math.max(1, Math.min(3, sizes.repeats)),
  )

  const goals = [
    goal('lossy 1 %: median ratio vs raw', med.lossy1Ratio, GOALS.lossyMedianRatio, '≥', '×'),
    goal('lossy 1 %: median ratio / median limit', med.lossy1Ratio / med.limit1Ratio, GOALS.ofLimit, '≥', '×'),
    goal('lossless: median bytes per point', med.losslessBytesPerPoint, GOALS.losslessBytesPerPoint, '≤', ' B'),
    goal('lossy: max |x − x̂| / bound, 1 % and 0.1 %', Math.max(maxError1, maxError01), 1, '≤', ''),
    goal('lossy 1 %: encode+decode obs per CPU-second, 1-d', throughput.lossy1.bothPerCpuSecond, GOALS.obsPerSecond, '≥', '/s'),
    goal('lossless: encode+decode obs per CPU-second, 1-d', throughput.lossless.bothPerCpuSecond, GOALS.obsPerSecond, '≥', '/s'),
  ]
  const loadAfter = load()

  console.log(
    `\ncompression bench${quick ? ' (quick)' : ''}: node ${process.version}, ${availableParallelism()} cores, load ${loadBefore} → ${loadAfter}`,
  )
  if (quick) console.log(`quick run: ${rows.length} of ${all.length} NAB series and a short telemetry run; the goals are for the full run`)
  console.log(
    `NAB (${rows.length} series), ${SEGMENT}-point segments, each its own block; ratio = raw (16 B/point) / block bytes summed;` +
      ' limit = order-0 entropy of the 1 %-quantised values (better of values or deltas, grid at the series minimum, no timestamps)',
  )
  console.table([
    ...rows.map((r) => tableRow(r.series, r)),
    tableRow('median (max for errors)', {
      ...med,
      points: median(rows.map((r) => r.points)),
      lossy1MaxError: maxError1,
      lossy01MaxError: maxError01,
    }),
  ])
  console.log('goals')
  console.table(goals.map((g) => ({ goal: g.name, value: g.shown, wanted: g.wanted, met: g.met ? '✓' : '✗' })))
  console.log(
    'throughput, one thread (median of the timed passes; per CPU-second is what one core sustains, wall-clock depends on the load)',
  )
  console.table([
    throughputRow('NAB 1-d, lossless', throughput.lossless, 1),
    throughputRow('NAB 1-d, lossy 1 %', throughput.lossy1, 1),
    throughputRow('telemetry 16-d, lossy 1 %', telemetryThroughput, 16),
  ])
  console.log(
    `summary ratio = raw observations covered / bytes the index and the peers hold per segment (the segment event without its payload block:` +
      ` DAG-CBOR payload + ${ENVELOPE_BYTES} B envelope and signature); stored ratio adds the payload block (lossy 1 %)`,
  )
  console.table([
    summaryRow(`NAB 1-d, ${SEGMENT}-point segments (median of series)`, med.summaryRatio, med.storedRatio, med.summaryBytes),
    summaryRow(`telemetry 16-d 50 Hz, sealed by count (${SEGMENT})`, byCount.summaryRatio, byCount.storedRatio, byCount.summaryBytes),
    summaryRow(
      'telemetry 16-d 50 Hz, sealed by 1-minute window (3000)',
      byMinute.summaryRatio,
      byMinute.storedRatio,
      byMinute.summaryBytes,
    ),
  ])
  console.log('telemetry blocks (16-d, 50 Hz)')
  console.table([
    {
      sealing: `count ${SEGMENT}`,
      'lossless ×': round(byCount.losslessRatio),
      'lossy 1 % ×': round(byCount.lossy1Ratio),
      'max err / bound': errorShown(byCount.maxError),
    },
    {
      sealing: '1-minute window',
      'lossless ×': round(byMinute.losslessRatio),
      'lossy 1 % ×': round(byMinute.lossy1Ratio),
      'max err / bound': errorShown(byMinute.maxError),
    },
  ])
  const summary = {
    bench: 'compression',
    quick,
    node: process.version,
    cores: availableParallelism(),
    loadBefore,
    loadAfter,
    segment: SEGMENT,
    rawBytesPerPoint: RAW_TIMESTAMP_BYTES + RAW_VALUE_BYTES,
    nab: { series: rows.length, median: med, maxError1, maxError01, rows },
    throughput: { nab: throughput, telemetry16d: telemetryThroughput },
    telemetry: { entities: sizes.entities, seconds: sizes.seconds, dim: 16, hz: 50, byCount, byMinute },
    goals,
    goalsMet: goals.every((g) => g.met),
    totalSeconds: (performance.now() - started) / 1000,
  }
  console.log(JSON.stringify(summary, (_key, value) => (typeof value === 'number' && !Number.isFinite(value) ? null : value)))
}

// ---------------------------------------------------------------------------------------------- NAB series

function csvFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((f) => {
      const path = join(dir, f)
      return statSync(path).isDirectory() ? csvFiles(path) : f.endsWith('.csv') ? [path] : []
    })
    .sort()
}

/** A NAB series sorted by time (one file has a row out of order; the engine sorts within its tolerance too). */
function readSeries(path: string): Series {
  const rows = readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [stamp, value] = line.split(',')
      return { t: Date.parse(`${stamp!.replace(' ', 'T')}Z`), x: Number(value) }
    })
    .sort((a, b) => a.t - b.t)
  return { name: relative(NAB, path).replace(/\.csv$/, ''), ts: rows.map((r) => r.t), values: rows.map((r) => r.x) }
}

function segments(s: Series): SegmentObservations[] {
  const out: SegmentObservations[] = []
  for (let i = 0; i < s.ts.length; i += SEGMENT) {
    out.push({ ts: s.ts.slice(i, i + SEGMENT), vectors: s.values.slice(i, i + SEGMENT).map((x) => [x]) })
  }
  return out
}

function measureSeries(s: Series): SeriesRow {
  const range = rangeOf(s.values)
  const segs = segments(s)
  const raw = s.ts.length * (RAW_TIMESTAMP_BYTES + RAW_VALUE_BYTES)
  const lossless = stored(segs, { codec: LOSSLESS_CODEC })
  check(lossless.exact, `lossless round trip of ${s.name}`)
  const lossy1 = stored(segs, lossy([0.01 * range]))
  const lossy01 = stored(segs, lossy([0.001 * range]))
  const limitBits = entropyLimit(s.values, 0.01 * range)
  const limit1Ratio = limitBits === 0 ? null : (8 * (RAW_TIMESTAMP_BYTES + RAW_VALUE_BYTES)) / limitBits
  const lossy1Ratio = raw / lossy1.bytes
  let summaryBytes = 0
  let through = 0
  segs.forEach((seg, i) => {
    through += seg.ts.length
    summaryBytes += summaryOf(s.name, seg, [0.01 * range], lossy1.blocks[i]!, through)
  })
  return {
    series: s.name,
    points: s.ts.length,
    losslessBytesPerPoint: lossless.bytes / s.ts.length,
    losslessRatio: raw / lossless.bytes,
    lossy1Ratio,
    lossy1MaxError: lossy1.maxError,
    limit1Ratio,
    ofLimit: limit1Ratio === null ? null : lossy1Ratio / limit1Ratio,
    lossy01Ratio: raw / lossy01.bytes,
    lossy01MaxError: lossy01.maxError,
    summaryRatio: raw / summaryBytes,
    summaryBytes: summaryBytes / segs.length,
    storedRatio: raw / (summaryBytes + lossy1.bytes),
  }
}

/**
 * Bits per point of the order-0 entropy of the values quantised to step 2e on a grid anchored at the series
 * minimum: the lesser of the entropy of the indices and of their deltas (the median of this over NAB is the
 * issue's ≈ 63× reference; deltas alone give ≈ 57×).
 */
function entropyLimit(values: number[], e: number): number {
  if (!(e > 0)) return 0
  const min = Math.min(...values)
  const q = values.map((x) => Math.round((x - min) / (2 * e)))
  const d = q.map((x, i) => (i === 0 ? x : x - q[i - 1]!))
  return Math.min(entropy(q), entropy(d))
}

function entropy(symbols: number[]): number {
  const counts = new Map<number, number>()
  for (const s of symbols) counts.set(s, (counts.get(s) ?? 0) + 1)
  let h = 0
  for (const c of counts.values()) h -= (c / symbols.length) * Math.log2(c / symbols.length)
  return h
}

/** Encodes each segment as its own block and decodes it back: total bytes, the blocks, the worst error. */
function stored(
  segs: SegmentObservations[],
  options: EncodeOptions,
): { bytes: number; blocks: Uint8Array[]; maxError: number; exact: boolean } {
  const bounds = options.codec === LOSSY_CODEC ? options.errorBound : null
  let bytes = 0
  let maxError = 0
  let exact = true
  const blocks: Uint8Array[] = []
  for (const seg of segs) {
    const block = encodeSegment(seg, options)
    blocks.push(block)
    bytes += block.length
    const back = decodeSegment(block)
    check(
      back.ts.every((t, i) => t === seg.ts[i]),
      'timestamps come back exact',
    )
    seg.vectors.forEach((row, i) => {
      row.forEach((x, d) => {
        const y = back.vectors[i]![d]!
        if (!Object.is(x, y)) exact = false
        const bound = bounds?.[d] ?? 0
        const err = Math.abs(x - y)
        if (bound > 0) maxError = Math.max(maxError, err / bound)
        else if (err > 0) maxError = Number.POSITIVE_INFINITY
      })
    })
  }
  return { bytes, blocks, maxError, exact }
}

// ----------------------------------------------------------------------------------------------- throughput

interface Throughput {
  observations: number
  /** Wall-clock rates (the median pass). */
  encodePerSecond: number
  decodePerSecond: number
  both: number
  /**
   * Rates per second of this thread's CPU time (user + system, the median pass): what one core sustains,
   * whatever else the machine runs (the JIT and GC helper threads are not counted). Encode then decode: the
   * goal's measure.
   */
  encodePerCpuSecond: number
  decodePerCpuSecond: number
  bothPerCpuSecond: number
  encodeSamples: number[]
  decodeSamples: number[]
}

function throughputOf(work: { seg: SegmentObservations; options: EncodeOptions }[], repeats: number): Throughput {
  const observations = work.reduce((sum, w) => sum + w.seg.ts.length, 0)
  // Each pass encodes every series from its start: with the hints it had then (none).
  const restart = () => {
    for (const w of work) if (w.options.codec === LOSSY_CODEC && w.options.hints !== undefined) w.options.hints.columns.length = 0
  }
  // One untimed pass warms the JIT.
  restart()
  for (const w of work) decodeSegment(encodeSegment(w.seg, w.options))
  const encodes: Measured[] = []
  const decodes: Measured[] = []
  let blocks: Uint8Array[] = []
  for (let run = 0; run < repeats; run++) {
    restart()
    settle()
    const enc = timedOnThread(() => work.map((w) => encodeSegment(w.seg, w.options)))
    blocks = enc.value
    encodes.push(enc)
    settle()
    decodes.push(timedOnThread(() => blocks.map((b) => decodeSegment(b))))
  }
  const e = medianRun(encodes).seconds
  const d = medianRun(decodes).seconds
  const byCpu = (runs: Measured[]): number => [...runs].sort((a, b) => a.cpuSeconds - b.cpuSeconds)[(runs.length - 1) >> 1]!.cpuSeconds
  const ec = byCpu(encodes)
  const dc = byCpu(decodes)
  return {
    observations,
    encodePerSecond: observations / e,
    decodePerSecond: observations / d,
    both: observations / (e + d),
    encodePerCpuSecond: observations / ec,
    decodePerCpuSecond: observations / dc,
    bothPerCpuSecond: observations / (ec + dc),
    encodeSamples: encodes.map((m) => m.seconds),
    decodeSamples: decodes.map((m) => m.seconds),
  }
}

/** Wall-clock seconds and this thread's CPU seconds of a synchronous function. */
function timedOnThread<T>(fn: () => T): Measured & { value: T } {
  const cpu = process.threadCpuUsage()
  const start = performance.now()
  const value = fn()
  const seconds = (performance.now() - start) / 1000
  const used = process.threadCpuUsage(cpu)
  return { seconds, cpuSeconds: (used.user + used.system) / 1e6, value }
}

// ------------------------------------------------------------------------------------------------ summaries

/** Bytes of the segment event without its payload block: the DAG-CBOR payload plus envelope and signature. */
function summaryOf(entity: string, seg: SegmentObservations, errorBound: readonly number[], block: Uint8Array, through: number): number {
  const dim = seg.vectors[0]!.length
  const centroid = new Array<number>(dim).fill(0)
  const min = new Array<number>(dim).fill(Number.POSITIVE_INFINITY)
  const max = new Array<number>(dim).fill(Number.NEGATIVE_INFINITY)
  for (const row of seg.vectors) {
    row.forEach((x, d) => {
      centroid[d]! += x / seg.vectors.length
      min[d] = Math.min(min[d]!, x)
      max[d] = Math.max(max[d]!, x)
    })
  }
  const payload = payloadSchemas.segment.parse({
    entity,
    from: seg.ts[0],
    to: seg.ts[seg.ts.length - 1],
    count: seg.ts.length,
    through,
    centroid,
    min,
    max,
    anomaly: 0.1372,
    alerts: [],
    regime: 'r3',
    codec: LOSSY_CODEC,
    errorBound: [...errorBound],
    data: cidFor(block, RAW),
  })
  return encodeBlock(payload).bytes.length + ENVELOPE_BYTES
}

// ------------------------------------------------------------------------------------------------ telemetry

interface Telemetry {
  entity: string
  ts: number[]
  vectors: number[][]
  /** 1 % of each dimension's range over the run. */
  bounds: number[]
}

/**
 * One vehicle-like entity: 16 channels at 50 Hz. Each channel is a few slow oscillations (periods of seconds
 * to minutes), a random-walk drift, occasional steps, and white noise of about 1 % of its swing, rounded to
 * the channel's sensor resolution (0.001 to 1, as such data arrives in CSV). About 2 % of the timestamps are
 * a millisecond late.
 */
function telemetryFor(index: number, seconds: number): Telemetry {
  const rnd = prng(1000 + index)
  const n = seconds * 50
  const dim = 16
  const channels = Array.from({ length: dim }, () => ({
    amplitude: 10 ** (rnd() * 4 - 1),
    offset: (rnd() - 0.3) * 1000,
    periods: [2 + rnd() * 20, 30 + rnd() * 600, 600 + rnd() * 3000],
    phases: [rnd(), rnd(), rnd()].map((p) => p * 2 * Math.PI),
    resolution: 10 ** -Math.floor(rnd() * 4),
    drift: 0,
  }))
  const t0 = Date.UTC(2025, 5, 1, 8) + index * 7
  const ts: number[] = []
  const vectors: number[][] = []
  let t = t0
  for (let i = 0; i < n; i++) {
    t = t0 + i * 20 + (rnd() < 0.02 ? 1 : 0)
    ts.push(t)
    const seconds = i / 50
    vectors.push(
      channels.map((c) => {
        c.drift += (rnd() - 0.5) * c.amplitude * 0.002
        if (rnd() < 0.0001) c.drift += (rnd() - 0.5) * c.amplitude
        let x = c.offset + c.drift
        for (let k = 0; k < 3; k++) x += (c.amplitude / (k + 1)) * Math.sin((2 * Math.PI * seconds) / c.periods[k]! + c.phases[k]!)
        x += (rnd() - 0.5) * 0.02 * c.amplitude
        return Math.round(x / c.resolution) * c.resolution
      }),
    )
  }
  const bounds = Array.from({ length: dim }, (_, d) => 0.01 * rangeOf(vectors.map((v) => v[d]!)))
  return { entity: `vehicle-${String(index + 1).padStart(4, '0')}`, ts, vectors, bounds }
}

function cut(t: Telemetry, size: number): SegmentObservations[] {
  const out: SegmentObservations[] = []
  for (let i = 0; i < t.ts.length; i += size) out.push({ ts: t.ts.slice(i, i + size), vectors: t.vectors.slice(i, i + size) })
  return out
}

function measureTelemetry(
  all: Telemetry[],
  size: number,
): { summaryRatio: number; storedRatio: number; summaryBytes: number; losslessRatio: number; lossy1Ratio: number; maxError: number } {
  let raw = 0
  let summary = 0
  let segmentsCount = 0
  let losslessBytes = 0
  let lossyBytes = 0
  let maxError = 0
  for (const t of all) {
    const segs = cut(t, size)
    raw += t.ts.length * (RAW_TIMESTAMP_BYTES + RAW_VALUE_BYTES * t.vectors[0]!.length)
    const lossless = stored(segs, { codec: LOSSLESS_CODEC })
    check(lossless.exact, `lossless round trip of ${t.entity}`)
    losslessBytes += lossless.bytes
    const lossy1 = stored(segs, lossy(t.bounds))
    lossyBytes += lossy1.bytes
    maxError = Math.max(maxError, lossy1.maxError)
    let through = 0
    segs.forEach((seg, i) => {
      through += seg.ts.length
      summary += summaryOf(t.entity, seg, t.bounds, lossy1.blocks[i]!, through)
    })
    segmentsCount += segs.length
  }
  return {
    summaryRatio: raw / summary,
    storedRatio: raw / (summary + lossyBytes),
    summaryBytes: summary / segmentsCount,
    losslessRatio: raw / losslessBytes,
    lossy1Ratio: raw / lossyBytes,
    maxError,
  }
}

// -------------------------------------------------------------------------------------------------- helpers

/** Lossy options for one series, with the codec hints a node keeps per entity from one segment to the next. */
function lossy(errorBound: readonly number[]): EncodeOptions {
  return { codec: LOSSY_CODEC, errorBound, hints: createCodecHints() }
}

function rangeOf(values: number[]): number {
  let min = Number.POSITIVE_INFINITY
  let max = Number.NEGATIVE_INFINITY
  for (const x of values) {
    if (x < min) min = x
    if (x > max) max = x
  }
  return max - min
}

function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

interface Goal {
  name: string
  value: number
  target: number
  shown: string
  wanted: string
  met: boolean
}

function goal(name: string, value: number, target: number, sense: '≥' | '≤', unit: string): Goal {
  const fmt = (x: number): string => (unit === '/s' ? fmtRate(x) : unit === '' ? String(errorShown(x)) : x.toFixed(unit === '×' ? 2 : 3))
  return {
    name,
    value,
    target,
    shown: `${fmt(value)}${unit}`,
    wanted: `${sense} ${fmt(target)}${unit}`,
    met: sense === '≥' ? value >= target : value <= target,
  }
}

function round(x: number | null, digits = 1): number | string {
  return x === null ? 'n/a' : Number.isFinite(x) ? Number(x.toFixed(digits)) : '∞'
}

/** An error as a fraction of its bound, rounded down: 0.99996 must not read as 1. */
function errorShown(x: number): number | string {
  return Number.isFinite(x) ? Math.floor(x * 10_000) / 10_000 : '∞'
}

function tableRow(name: string, r: Omit<SeriesRow, 'series'>): Record<string, number | string> {
  return {
    series: name,
    points: r.points,
    'lossless B/pt': round(r.losslessBytesPerPoint, 3),
    'lossless ×': round(r.losslessRatio),
    '1 % ×': round(r.lossy1Ratio),
    '1 % limit ×': round(r.limit1Ratio),
    'of limit': round(r.ofLimit, 2),
    '1 % max err/e': errorShown(r.lossy1MaxError),
    '0.1 % ×': round(r.lossy01Ratio),
    '0.1 % max err/e': errorShown(r.lossy01MaxError),
    'summary ×': round(r.summaryRatio),
  }
}

function throughputRow(name: string, t: Throughput, dim: number): Record<string, number | string> {
  return {
    data: name,
    observations: t.observations,
    'encode obs/cpu-s': fmtRate(t.encodePerCpuSecond),
    'decode obs/cpu-s': fmtRate(t.decodePerCpuSecond),
    'enc+dec obs/cpu-s': fmtRate(t.bothPerCpuSecond),
    'enc+dec values/cpu-s': fmtRate(t.bothPerCpuSecond * dim),
    'enc+dec obs/s wall': fmtRate(t.both),
  }
}

function summaryRow(name: string, ratio: number, storedRatio: number | null, bytes: number | null): Record<string, number | string> {
  return {
    data: name,
    'summary ratio ×': round(ratio),
    'bytes per segment event': bytes === null ? '' : Math.round(bytes),
    'summary + lossy block ×': storedRatio === null ? '' : round(storedRatio),
  }
}

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`bench check failed: ${what}`)
}

function load(): string {
  return loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')
}

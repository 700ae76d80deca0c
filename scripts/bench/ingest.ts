/**
 * Observations per second through the node's whole ingest pipeline against raw Level batch puts of the same
 * observations, each side in a child process of its own (cold JIT, its own peak RSS), same files, same disk:
 *   vsdb:      openNode on a fresh data dir → node.ingest(every CSV of the case) → node.close() (checkpoint).
 *              That is: the CSV reader (over 8 MiB: a validating first pass, then the write pass; plain lines
 *              read in place, csv-parse for the rest), one signed `ingest` event per entity per 1,000 rows with
 *              the raw batch as a linked DAG-CBOR block (packed float64 columns), the segmenter (anomaly score per observation, regime, seal by
 *              count / window / regime change), the segment codec, the `segment` events, Level batches with
 *              the log's indexes and Helia pins, the projections fold and the checkpoint.
 *   baseline:  open classic-level → per file, lines split on commas (Date.parse, Number) → batches of 1,000
 *              puts, key `${entity}!${ts}` (ts zero-padded), value JSON.stringify({ts, vector}) → close.
 *              Also the same puts from rows parsed into memory before the clock starts (Level alone).
 * Cases: 1M NAB observations (every series of ../shared/data/nab concatenated per entity, 4 entities, 1-d),
 * and 1M synthetic 8-d observations (4 entities, 10 Hz). The data generation is not timed.
 * Each side runs `repeats` times (3), vsdb and CSV → Level in turn, and their medians are compared; the ratios of
 * each vsdb run to the baseline run just before it are printed too (the machine's speed drifts over minutes).
 * Peak RSS is the child's VmHWM, the largest of the vsdb runs (whole life of the process, modules included; the floor
 * after loading them is shown beside it). Goals (issue 4): vsdb ≥ 1.0× the CSV → Level baseline; peak RSS ≤ 256 MB at 1M.
 *
 *   npm run bench -- ingest [--quick] [--profile DIR]   (--profile: a --cpu-prof of every child into DIR)
 */
import { availableParallelism } from 'node:os'
import { datasetMakers } from './lib/observation-data.ts'
import { fmtRate, medianRun, Results, TempDirs } from './lib/report.ts'
import { announce, dirBytes, load, parseBenchArgs, runStep, type StepResult } from './lib/step.ts'

interface Sizes {
  rows: number
  entities: number
  dim: number
  /** Runs of each side: the medians are compared. */
  repeats: number
}

const FULL: Sizes = { rows: 1_000_000, entities: 4, dim: 8, repeats: 3 }
const QUICK: Sizes = { rows: 20_000, entities: 2, dim: 8, repeats: 1 }
const SPEED_GOAL = 1.0
const RSS_GOAL_MB = 256

interface CaseReport {
  case: string
  rows: number
  dim: number
  entities: number
  csvBytes: number
  vsdb: StepResult & { diskBytes: number }
  levelCsv: StepResult & { diskBytes: number }
  levelPreparsed: StepResult
  ratio: number
  /** vsdb over the baseline run just before it, run by run. */
  pairs: number[]
  ratioVsPutsOnly: number
  rssMet: boolean
}

const mb = (x: number) => Number(x.toFixed(1))

export async function main(args: string[]): Promise<void> {
  const { quick, profileDir } = parseBenchArgs('ingest', args)
  const sizes = quick ? QUICK : FULL
  const tmp = new TempDirs()
  const results = new Results()
  const { loadBefore, measured } = announce('ingest', quick, sizes.rows)
  const started = performance.now()
  const cases: CaseReport[] = []
  try {
    for (const [label, make] of datasetMakers(sizes)) {
      const dataDir = await tmp.make(`ingest-data-${label}`)
      const generated = performance.now()
      const data = await make(dataDir)
      console.error(
        `${data.name}: ${data.rows} rows, ${(data.bytes / 2 ** 20).toFixed(1)} MiB of CSV in ${data.files.length} files ` +
          `(written in ${((performance.now() - generated) / 1000).toFixed(1)} s, not timed)`,
      )
      const step = async (name: StepResult['step'], keep: boolean): Promise<StepResult & { diskBytes: number }> => {
        const dir = await tmp.make(`ingest-${name}`)
        const r = await runStep({ step: name, dir, files: data.files }, { profileDir })
        if (r.rows !== data.rows) throw new Error(`${name}: ${r.rows} rows written, ${data.rows} in the files`)
        const diskBytes = keep ? await dirBytes(dir) : 0
        await tmp.remove(dir)
        return { ...r, diskBytes }
      }
      // Each vsdb run right after a baseline run: the machine's speed drifts over minutes, and a pair sees the same.
      const csvRuns: (StepResult & { diskBytes: number })[] = []
      const vsdbRuns: (StepResult & { diskBytes: number })[] = []
      for (let i = 0; i < sizes.repeats; i++) {
        csvRuns.push(await step('level-csv', true))
        vsdbRuns.push(await step('vsdb-ingest', true))
      }
      const putRuns: StepResult[] = []
      for (let i = 0; i < sizes.repeats; i++) putRuns.push(await step('level-preparsed', false))
      const vsdb = {
        ...(medianRun(vsdbRuns) as StepResult & { diskBytes: number }),
        peakRssMB: Math.max(...vsdbRuns.map((r) => r.peakRssMB)),
      }
      const pairs = vsdbRuns.map((v, i) => (csvRuns[i] as StepResult).seconds / v.seconds)
      console.error(`  vsdb / baseline, run by run: ${pairs.map((r) => `${r.toFixed(2)}×`).join(', ')}`)
      const levelCsv = medianRun(csvRuns) as StepResult & { diskBytes: number }
      const levelPreparsed = medianRun(putRuns) as StepResult
      const base = results.add(`level batch JSON, CSV → Level [${label}]`, data.rows, csvRuns)
      const puts = results.add(`level batch JSON, puts only, pre-parsed [${label}]`, data.rows, putRuns, { baseline: base })
      const ours = results.add(`vsdb openNode+ingest+close, CSV → node [${label}]`, data.rows, vsdbRuns, {
        baseline: base,
        goal: SPEED_GOAL,
      })
      cases.push({
        case: data.name,
        rows: data.rows,
        dim: data.dim,
        entities: data.entities,
        csvBytes: data.bytes,
        vsdb,
        levelCsv: { ...levelCsv, peakRssMB: Math.max(...csvRuns.map((r) => r.peakRssMB)) },
        levelPreparsed: { ...levelPreparsed, peakRssMB: Math.max(...putRuns.map((r) => r.peakRssMB)) },
        ratio: ours.ratio as number,
        pairs,
        ratioVsPutsOnly: ours.perSecond / puts.perSecond,
        rssMet: vsdb.peakRssMB <= RSS_GOAL_MB,
      })
      await tmp.remove(dataDir)
    }

    const loadAfter = load()
    console.log(
      `\ningest bench${quick ? ' (quick)' : ''}: node ${process.version}, ${availableParallelism()} cores, load ${loadBefore} → ${loadAfter}; ` +
        `events = observations; each side: median of ${sizes.repeats} runs, vsdb and CSV → Level in turn`,
    )
    results.table()
    console.log(
      'peak RSS (child process VmHWM, MiB; floor = RSS once its modules are loaded; at end: anonymous / file-backed pages), data on disk, vsdb phases:',
    )
    console.table(
      cases.map((c) => ({
        case: c.case,
        'vsdb peak RSS': mb(c.vsdb.peakRssMB),
        'vsdb floor': mb(c.vsdb.floorRssMB),
        'vsdb at end anon/file': c.vsdb.endRssMB === undefined ? '' : `${mb(c.vsdb.endRssMB.anon)} / ${mb(c.vsdb.endRssMB.file)}`,
        goal: `≤ ${RSS_GOAL_MB}${c.rssMet ? ' ✓' : ' ✗'}`,
        'level CSV peak RSS': mb(c.levelCsv.peakRssMB),
        'CSV MiB': mb(c.csvBytes / 2 ** 20),
        'vsdb dir MiB': mb(c.vsdb.diskBytes / 2 ** 20),
        'level dir MiB': mb(c.levelCsv.diskBytes / 2 ** 20),
        events: c.vsdb.events,
        segments: c.vsdb.segments,
        'open/ingest/close s': ['open', 'ingest', 'close'].map((p) => (c.vsdb.phases?.[p] ?? 0).toFixed(2)).join(' / '),
      })),
    )
    for (const c of cases) {
      console.log(
        `${c.case}: vsdb ${fmtRate(c.rows / c.vsdb.seconds)} obs/s = ${c.ratio.toFixed(2)}× CSV → Level ` +
          `(run by run ${c.pairs.map((r) => r.toFixed(2)).join(', ')}), ` +
          `${c.ratioVsPutsOnly.toFixed(2)}× Level puts alone; peak RSS ${c.vsdb.peakRssMB.toFixed(0)} MiB`,
      )
    }
    const summary = {
      bench: 'ingest',
      quick,
      node: process.version,
      cores: availableParallelism(),
      revision: measured,
      loadBefore,
      loadAfter,
      goals: { speedVsLevelCsv: SPEED_GOAL, peakRssMB: RSS_GOAL_MB },
      cases: cases.map((c) => ({
        case: c.case,
        rows: c.rows,
        dim: c.dim,
        entities: c.entities,
        csvBytes: c.csvBytes,
        vsdb: {
          perSecond: Math.round(c.rows / c.vsdb.seconds),
          seconds: c.vsdb.seconds,
          cpuSeconds: c.vsdb.cpuSeconds,
          phases: c.vsdb.phases,
          events: c.vsdb.events,
          segments: c.vsdb.segments,
          digest: c.vsdb.digest,
          peakRssMB: mb(c.vsdb.peakRssMB),
          floorRssMB: mb(c.vsdb.floorRssMB),
          endRssMB: c.vsdb.endRssMB,
          diskBytes: c.vsdb.diskBytes,
        },
        levelCsv: {
          perSecond: Math.round(c.rows / c.levelCsv.seconds),
          seconds: c.levelCsv.seconds,
          peakRssMB: mb(c.levelCsv.peakRssMB),
          diskBytes: c.levelCsv.diskBytes,
        },
        levelPutsOnly: { perSecond: Math.round(c.rows / c.levelPreparsed.seconds), seconds: c.levelPreparsed.seconds },
        ratio: c.ratio,
        pairs: c.pairs,
        ratioVsPutsOnly: c.ratioVsPutsOnly,
        speedMet: c.ratio >= SPEED_GOAL,
        rssMet: c.rssMet,
      })),
      results: results.rows,
      totalSeconds: (performance.now() - started) / 1000,
      goalsMet: results.rows.every((r) => r.met !== false) && cases.every((c) => c.rssMet),
    }
    console.log(JSON.stringify(summary))
  } finally {
    await tmp.removeAll()
  }
}

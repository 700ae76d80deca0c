/**
 * Rebuilding the projections at 1M observations, each step in a child process of its own (cold JIT, as a
 * restarted node is), on the same data dir:
 *   1. first ingest: openNode on a fresh dir → node.ingest(every CSV of the case) → close (writes a checkpoint);
 *      the live digest is taken before close;
 *   2. full replay, two ways: `node.replay()` (the fold of the whole log into fresh views, the node already
 *      open) and openNode after removing <dir>/projections (time to ready: open the log, fold it from zero);
 *      goal ≥ 3× faster than the first ingest;
 *   3. checkpoint restart: openNode with the checkpoint (load and check it, fold the tail): time to ready;
 *      goal ≥ 20× faster than the full replay on open.
 * The digests must all be equal: live == replay == after a full-replay open == after a checkpoint restart.
 * Cases: 1M NAB observations (4 entities, 1-d) and 1M synthetic 8-d observations (4 entities), as in the
 * ingest bench. "events" in the table is the observations the log holds, so events/s is observations/s.
 *
 *   npm run bench -- replay [--quick] [--profile DIR]   (--profile: a --cpu-prof of every child into DIR)
 */
import { availableParallelism } from 'node:os'
import { datasetMakers } from './lib/observation-data.ts'
import { type Measured, Results, TempDirs } from './lib/report.ts'
import { announce, load, parseBenchArgs, runStep, type StepResult } from './lib/step.ts'

interface Sizes {
  rows: number
  entities: number
  dim: number
  /** Runs of each replay and restart step (the first ingest runs once); the table shows the median. */
  repeats: number
}

const FULL: Sizes = { rows: 1_000_000, entities: 4, dim: 8, repeats: 3 }
const QUICK: Sizes = { rows: 20_000, entities: 2, dim: 8, repeats: 1 }
const REPLAY_GOAL = 3
const RESTART_GOAL = 20

interface CaseReport {
  case: string
  rows: number
  events: number
  segments: number
  ingest: StepResult
  replay: StepResult[]
  openFresh: StepResult[]
  restart: StepResult[]
  digests: Record<string, string>
  digestsEqual: boolean
  replayVsIngest: number
  openFreshVsIngest: number
  restartVsOpenFresh: number
  restartVsReplay: number
}

function median(runs: StepResult[]): StepResult {
  return [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor((runs.length - 1) / 2)] as StepResult
}

const asMeasured = (runs: StepResult[]): Measured[] => runs.map(({ seconds, cpuSeconds }) => ({ seconds, cpuSeconds }))

export async function main(args: string[]): Promise<void> {
  const { quick, profileDir } = parseBenchArgs('replay', args)
  const sizes = quick ? QUICK : FULL
  const tmp = new TempDirs()
  const results = new Results()
  const { loadBefore, measured } = announce('replay', quick, sizes.rows)
  const started = performance.now()
  const cases: CaseReport[] = []
  try {
    for (const [label, make] of datasetMakers(sizes)) {
      const dataDir = await tmp.make(`replay-data-${label}`)
      const data = await make(dataDir)
      console.error(`${data.name}: ${data.rows} rows, ${(data.bytes / 2 ** 20).toFixed(1)} MiB of CSV (not timed)`)
      const dir = await tmp.make(`replay-${label}`)
      const step = (name: StepResult['step']) => runStep({ step: name, dir, files: data.files }, { profileDir })

      const ingest = await step('vsdb-ingest')
      if (ingest.rows !== data.rows) throw new Error(`ingest wrote ${ingest.rows} rows of ${data.rows}`)
      await tmp.remove(dataDir)
      // Interleaved, so that a change of load on the machine falls on every kind of step alike.
      const restart: StepResult[] = []
      const replay: StepResult[] = []
      const openFresh: StepResult[] = []
      for (let i = 0; i < sizes.repeats; i++) {
        restart.push(await step('vsdb-open'))
        replay.push(await step('vsdb-replay'))
        // Removes the checkpoint, folds from zero, and writes a new checkpoint on close (its close is not timed).
        openFresh.push(await step('vsdb-open-fresh'))
      }
      // Once more from the checkpoint the full-replay open wrote.
      restart.push(await step('vsdb-open'))

      const digests: Record<string, string> = { 'live (after the first ingest)': ingest.digest as string }
      for (const [i, r] of replay.entries()) {
        digests[`node.replay() #${i + 1}`] = r.digest as string
        digests[`live beside replay #${i + 1}`] = r.live as string
      }
      for (const [i, r] of openFresh.entries()) digests[`open, no checkpoint #${i + 1}`] = r.digest as string
      for (const [i, r] of restart.entries()) digests[`checkpoint restart #${i + 1}`] = r.digest as string
      const digestsEqual = new Set(Object.values(digests)).size === 1
      const bad = [...openFresh, ...restart.slice(0, -1)].filter((r, i) =>
        i < openFresh.length ? r.loadedFrom?.checkpoint !== false : r.loadedFrom?.checkpoint !== true || r.loadedFrom.tail !== 0,
      )
      if (bad.length > 0) throw new Error(`a step did not load as intended: ${JSON.stringify(bad.map((r) => [r.step, r.loadedFrom]))}`)

      const rows = data.rows
      const first = results.add(`first ingest, openNode+ingest+close [${label}]`, rows, ingest)
      const rep = results.add(`full replay, node.replay() [${label}]`, rows, asMeasured(replay), { baseline: first, goal: REPLAY_GOAL })
      const fresh = results.add(`full replay, openNode with no checkpoint [${label}]`, rows, asMeasured(openFresh), {
        baseline: first,
        goal: REPLAY_GOAL,
      })
      const restarted = results.add(`checkpoint restart, openNode [${label}]`, rows, asMeasured(restart), {
        baseline: fresh,
        goal: RESTART_GOAL,
      })
      cases.push({
        case: data.name,
        rows,
        events: ingest.events as number,
        segments: ingest.segments as number,
        ingest,
        replay,
        openFresh,
        restart,
        digests,
        digestsEqual,
        replayVsIngest: rep.ratio as number,
        openFreshVsIngest: fresh.ratio as number,
        restartVsOpenFresh: restarted.ratio as number,
        restartVsReplay: restarted.perSecond / rep.perSecond,
      })
      await tmp.remove(dir)
    }

    const loadAfter = load()
    console.log(
      `\nreplay bench${quick ? ' (quick)' : ''}: node ${process.version}, ${availableParallelism()} cores, load ${loadBefore} → ${loadAfter}; ` +
        `events = observations in the log; replay and restart: median of ${sizes.repeats} (restart: ${sizes.repeats + 1}), each a fresh process`,
    )
    results.table()
    console.log('per case: log events, time to ready, peak RSS (MiB) of the median run:')
    console.table(
      cases.flatMap((c) => [
        { case: c.case, step: 'first ingest', 'log events': c.events, seconds: n3(c.ingest.seconds), 'peak RSS': n1(c.ingest.peakRssMB) },
        {
          case: c.case,
          step: 'node.replay()',
          'log events': median(c.replay).events,
          seconds: n3(median(c.replay).seconds),
          'peak RSS': n1(median(c.replay).peakRssMB),
        },
        {
          case: c.case,
          step: 'open, no checkpoint',
          'log events': median(c.openFresh).events,
          seconds: n3(median(c.openFresh).seconds),
          'peak RSS': n1(median(c.openFresh).peakRssMB),
        },
        {
          case: c.case,
          step: 'checkpoint restart',
          'log events': median(c.restart).events,
          seconds: n3(median(c.restart).seconds),
          'peak RSS': n1(median(c.restart).peakRssMB),
        },
      ]),
    )
    for (const c of cases) {
      console.log(`${c.case}: digests ${c.digestsEqual ? 'all equal' : 'DIFFER'}:`)
      for (const [what, digest] of Object.entries(c.digests)) console.log(`  ${digest}  ${what}`)
    }
    const digestsEqual = cases.every((c) => c.digestsEqual)
    const summary = {
      bench: 'replay',
      quick,
      node: process.version,
      cores: availableParallelism(),
      revision: measured,
      loadBefore,
      loadAfter,
      goals: { replayVsIngest: REPLAY_GOAL, restartVsFullReplay: RESTART_GOAL },
      cases: cases.map((c) => ({
        case: c.case,
        rows: c.rows,
        events: c.events,
        segments: c.segments,
        ingestSeconds: c.ingest.seconds,
        ingestPhases: c.ingest.phases,
        replaySeconds: c.replay.map((r) => r.seconds),
        openNoCheckpointSeconds: c.openFresh.map((r) => r.seconds),
        restartSeconds: c.restart.map((r) => r.seconds),
        replayVsIngest: c.replayVsIngest,
        openNoCheckpointVsIngest: c.openFreshVsIngest,
        restartVsOpenNoCheckpoint: c.restartVsOpenFresh,
        restartVsReplay: c.restartVsReplay,
        peakRssMB: {
          ingest: n1(c.ingest.peakRssMB),
          replay: n1(median(c.replay).peakRssMB),
          openNoCheckpoint: n1(median(c.openFresh).peakRssMB),
          restart: n1(median(c.restart).peakRssMB),
        },
        digests: c.digests,
        digestsEqual: c.digestsEqual,
      })),
      results: results.rows,
      digestsEqual,
      totalSeconds: (performance.now() - started) / 1000,
      goalsMet: results.rows.every((r) => r.met !== false) && digestsEqual,
    }
    console.log(JSON.stringify(summary))
    if (!digestsEqual) process.exitCode = 1
  } finally {
    await tmp.removeAll()
  }
}

const n1 = (x: number) => Number(x.toFixed(1))
const n3 = (x: number) => Number(x.toFixed(3))

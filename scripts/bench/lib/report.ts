import { rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** One measured line of a bench: a rate, and how it compares with the baseline measured in the same run. */
export interface Row {
  name: string
  events: number
  seconds: number
  perSecond: number
  /** The row this one is compared with (null for a baseline). */
  baseline: string | null
  ratio: number | null
  /** The least ratio wanted, when there is a goal. */
  goal: number | null
  met: boolean | null
  /** CPU seconds of the whole process (every thread) over the run; divided by `seconds`, the cores it kept busy. */
  cpuSeconds: number
  /** Every run's seconds when the figure is the median of several. */
  samples?: number[]
}

/** Wall-clock and process CPU seconds of one run. */
export interface Measured {
  seconds: number
  cpuSeconds: number
}

export class Results {
  readonly rows: Row[] = []

  add(name: string, events: number, runs: Measured | Measured[], against?: { baseline: Row; goal?: number }): Row {
    const samples = Array.isArray(runs) ? runs.map((r) => r.seconds) : undefined
    const run = Array.isArray(runs) ? medianRun(runs) : runs
    const { seconds, cpuSeconds } = run
    const perSecond = events / seconds
    const ratio = against === undefined ? null : perSecond / against.baseline.perSecond
    const goal = against?.goal ?? null
    const row: Row = {
      name,
      events,
      seconds,
      perSecond,
      baseline: against?.baseline.name ?? null,
      ratio,
      goal,
      met: goal === null || ratio === null ? null : ratio >= goal,
      cpuSeconds,
      ...(samples === undefined ? {} : { samples }),
    }
    this.rows.push(row)
    const all = samples === undefined ? '' : ` (median of ${samples.length}: ${samples.map((x) => x.toFixed(3)).join(', ')})`
    console.error(
      `  ${name}: ${events} events in ${seconds.toFixed(3)} s${all} = ${fmtRate(perSecond)}/s${ratio === null ? '' : ` (${ratio.toFixed(2)}× ${row.baseline})`}`,
    )
    return row
  }

  table(): void {
    console.table(
      this.rows.map((r) => ({
        name: r.name,
        events: r.events,
        seconds: Number(r.seconds.toFixed(3)),
        'events/s': fmtRate(r.perSecond),
        'cores busy': Number((r.cpuSeconds / r.seconds).toFixed(2)),
        'ratio vs baseline': r.ratio === null ? 'baseline' : `${r.ratio.toFixed(2)}×  (${r.baseline})`,
        goal: r.goal === null ? '' : `≥ ${r.goal}×${r.met === true ? ' ✓' : ' ✗'}`,
      })),
    )
  }
}

/** The run of median wall-clock time (the lower middle one of an even count). */
export function medianRun(runs: Measured[]): Measured {
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds)
  return sorted[Math.floor((sorted.length - 1) / 2)] as Measured
}

/** Runs `fn` `times` times in turn, collecting garbage before each. */
export async function repeat(times: number, fn: (run: number) => Promise<Measured>): Promise<Measured[]> {
  const out: Measured[] = []
  for (let run = 0; run < times; run++) {
    settle()
    out.push(await fn(run))
  }
  return out
}

/** A latency distribution: percentiles by rank (the sample at ⌊p·n⌋ of the sorted samples), in the samples' unit. */
export interface LatencyStats {
  count: number
  p50: number
  p99: number
  mean: number
  max: number
}

export function latencyStats(samples: ArrayLike<number>): LatencyStats {
  const sorted = Float64Array.from(samples).sort()
  const n = sorted.length
  const at = (p: number): number => (n === 0 ? Number.NaN : (sorted[Math.min(n - 1, Math.floor(p * n))] as number))
  let sum = 0
  for (const x of sorted) sum += x
  return {
    count: n,
    p50: at(0.5),
    p99: at(0.99),
    mean: n === 0 ? Number.NaN : sum / n,
    max: n === 0 ? Number.NaN : (sorted[n - 1] as number),
  }
}

export function fmtRate(perSecond: number): string {
  return Math.round(perSecond).toLocaleString('en-US')
}

/** Wall-clock and process CPU seconds of an async function. */
export async function timed<T>(fn: () => Promise<T>): Promise<Measured & { value: T }> {
  const cpu = process.cpuUsage()
  const start = performance.now()
  const value = await fn()
  return finish(start, cpu, value)
}

export function timedSync<T>(fn: () => T): Measured & { value: T } {
  const cpu = process.cpuUsage()
  const start = performance.now()
  const value = fn()
  return finish(start, cpu, value)
}

function finish<T>(start: number, cpu: NodeJS.CpuUsage, value: T): Measured & { value: T } {
  const seconds = (performance.now() - start) / 1000
  const used = process.cpuUsage(cpu)
  return { seconds, cpuSeconds: (used.user + used.system) / 1e6, value }
}

/** Collects garbage between phases when node runs with --expose-gc, so one phase's garbage is not billed to the next. */
export function settle(): void {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc !== undefined) gc()
}

/** Temp directories that are removed at the end, and on Ctrl-C. */
export class TempDirs {
  readonly #dirs = new Set<string>()
  readonly #onSignal = (): void => {
    this.removeAllSync()
    process.exit(130)
  }

  constructor() {
    process.once('SIGINT', this.#onSignal)
    process.once('SIGTERM', this.#onSignal)
  }

  async make(prefix: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), `vsdb-bench-${prefix}-`))
    this.#dirs.add(dir)
    return dir
  }

  async remove(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true })
    this.#dirs.delete(dir)
  }

  async removeAll(): Promise<void> {
    for (const dir of [...this.#dirs]) await this.remove(dir)
    process.off('SIGINT', this.#onSignal)
    process.off('SIGTERM', this.#onSignal)
  }

  removeAllSync(): void {
    for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true })
    this.#dirs.clear()
  }
}

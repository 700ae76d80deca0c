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
  /** Every run's seconds when the figure is the median of several. */
  samples?: number[]
}

export class Results {
  readonly rows: Row[] = []

  add(name: string, events: number, seconds: number | number[], against?: { baseline: Row; goal?: number }): Row {
    const samples = Array.isArray(seconds) ? seconds : undefined
    if (Array.isArray(seconds)) seconds = median(seconds)
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
      ...(samples === undefined ? {} : { samples }),
    }
    this.rows.push(row)
    const runs = samples === undefined ? '' : ` (median of ${samples.length}: ${samples.map((x) => x.toFixed(3)).join(', ')})`
    console.error(
      `  ${name}: ${events} events in ${seconds.toFixed(3)} s${runs} = ${fmtRate(perSecond)}/s${ratio === null ? '' : ` (${ratio.toFixed(2)}× ${row.baseline})`}`,
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
        'ratio vs baseline': r.ratio === null ? 'baseline' : `${r.ratio.toFixed(2)}×  (${r.baseline})`,
        goal: r.goal === null ? '' : `≥ ${r.goal}×${r.met === true ? ' ✓' : ' ✗'}`,
      })),
    )
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** Runs `fn` `times` times in turn; the seconds of each run. */
export async function repeat(times: number, fn: (run: number) => Promise<number>): Promise<number[]> {
  const out: number[] = []
  for (let run = 0; run < times; run++) {
    settle()
    out.push(await fn(run))
  }
  return out
}

export function fmtRate(perSecond: number): string {
  return Math.round(perSecond).toLocaleString('en-US')
}

/** Wall-clock seconds of an async function. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = performance.now()
  const value = await fn()
  return { seconds: (performance.now() - start) / 1000, value }
}

export function timedSync<T>(fn: () => T): { seconds: number; value: T } {
  const start = performance.now()
  const value = fn()
  return { seconds: (performance.now() - start) / 1000, value }
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

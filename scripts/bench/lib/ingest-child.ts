/**
 * One measured step of the ingest and replay benches, in a process of its own so that its peak RSS is its
 * own (not the bench's, nor the data generator's) and every step starts with a cold JIT, as a real command
 * does. Run by `runStep` (see step.ts) as `node ingest-child.ts JSON`; prints one JSON line (a StepResult).
 *
 * Steps:
 *   vsdb-warm          loads the node's modules and exits (fills Node's compile cache: see step.ts)
 *   vsdb-ingest        openNode on a fresh data dir (made before the clock starts), ingest the files, close (checkpoint)
 *   level-csv          the baseline: open classic-level, read each CSV with a trivial parser, batch puts of JSON, close
 *   level-preparsed    the same puts from observations parsed into memory before the clock starts
 *   vsdb-open          openNode on an existing dir (checkpoint + tail when there is one): time to ready
 *   vsdb-open-fresh    remove <dir>/projections, then openNode: time to ready by a full replay of the log
 *   vsdb-replay        openNode (untimed), then node.replay(): a full fold of the log into fresh views
 */
import { createReadStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { VsdbNode } from '@vsdb/engine'
import { ClassicLevel } from 'classic-level'
import { processRss } from './memory.ts'
import type { StepInput, StepResult } from './step.ts'

const started = performance.now()
const input = JSON.parse(process.argv[2] ?? '{}') as StepInput
// The node's modules only where the step uses them, so that the baseline's RSS is Level's alone.
const vsdb = input.step.startsWith('vsdb')
const { defaultParts, openNode } = vsdb ? await import('@vsdb/engine') : ({} as typeof import('@vsdb/engine'))
const { initLog } = vsdb ? await import('@vsdb/log') : ({} as typeof import('@vsdb/log'))
const floorRssMB = process.memoryUsage().rss / 2 ** 20

/** Epoch ms of `YYYY-MM-DD HH:MM:SS` (no zone: UTC) or a full ISO string; the baseline's trivial parser. */
function parseTs(s: string): number {
  return Date.parse(s.length === 19 ? `${s.slice(0, 10)}T${s.slice(11)}Z` : s)
}

/** The baseline reader: lines of a CSV file, split on commas, streamed in 1,000-row batches. */
async function* csvBatches(file: string, size: number): AsyncGenerator<{ ts: number; vector: number[] }[]> {
  let rest = ''
  let header = true
  let batch: { ts: number; vector: number[] }[] = []
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 256 * 1024 })) {
    const lines = (rest + (chunk as string)).split('\n')
    rest = lines.pop() ?? ''
    for (const line of lines) {
      if (header) {
        header = false
        continue
      }
      if (line.length === 0) continue
      const cells = line.split(',')
      const vector: number[] = []
      for (let j = 1; j < cells.length; j++) vector.push(Number(cells[j]))
      batch.push({ ts: parseTs(cells[0] as string), vector })
      if (batch.length === size) {
        yield batch
        batch = []
      }
    }
  }
  if (rest.length > 0) {
    const cells = rest.split(',')
    batch.push({ ts: parseTs(cells[0] as string), vector: cells.slice(1).map(Number) })
  }
  if (batch.length > 0) yield batch
}

function entityOf(file: string): string {
  const base = file.slice(file.lastIndexOf('/') + 1)
  return base.slice(0, base.lastIndexOf('.'))
}

function key(entity: string, ts: number): string {
  return `${entity}!${ts.toString().padStart(13, '0')}`
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since)
  return (used.user + used.system) / 1e6
}

async function levelPuts(
  dir: string,
  batches: AsyncIterable<{ entity: string; rows: { ts: number; vector: number[] }[] }>,
): Promise<number> {
  const db = new ClassicLevel<string, string>(dir, { valueEncoding: 'utf8' })
  await db.open()
  let rows = 0
  for await (const { entity, rows: batch } of batches) {
    await db.batch(
      batch.map((o) => ({ type: 'put' as const, key: key(entity, o.ts), value: JSON.stringify({ ts: o.ts, vector: o.vector }) })),
    )
    rows += batch.length
  }
  await db.close()
  return rows
}

async function* fromFiles(files: string[], size: number): AsyncGenerator<{ entity: string; rows: { ts: number; vector: number[] }[] }> {
  for (const file of files) {
    const entity = entityOf(file)
    for await (const rows of csvBatches(file, size)) yield { entity, rows }
  }
}

async function run(): Promise<Omit<StepResult, 'peakRssMB' | 'endRssMB' | 'floorRssMB' | 'processSeconds'>> {
  const { step, dir } = input
  const files = input.files ?? []
  const timed = async <T>(fn: () => Promise<T>): Promise<{ seconds: number; cpuSeconds: number; value: T }> => {
    const cpu = process.cpuUsage()
    const t = performance.now()
    const value = await fn()
    return { seconds: (performance.now() - t) / 1000, cpuSeconds: cpuSeconds(cpu), value }
  }
  const closing = async (node: VsdbNode): Promise<number> => {
    const t = performance.now()
    await node.close()
    return (performance.now() - t) / 1000
  }

  // The modules are loaded (and so in the compile cache): nothing to measure.
  if (step === 'vsdb-warm') return { step, seconds: 0, cpuSeconds: 0 }
  if (step === 'level-csv') {
    const r = await timed(() => levelPuts(dir, fromFiles(files, 1000)))
    return { step, seconds: r.seconds, cpuSeconds: r.cpuSeconds, rows: r.value }
  }
  if (step === 'level-preparsed') {
    const all: { entity: string; rows: { ts: number; vector: number[] }[] }[] = []
    for await (const b of fromFiles(files, 1000)) all.push(b)
    const r = await timed(async () => {
      async function* replayed() {
        yield* all
      }
      return levelPuts(dir, replayed())
    })
    return { step, seconds: r.seconds, cpuSeconds: r.cpuSeconds, rows: r.value }
  }
  if (step === 'vsdb-ingest') {
    await (await initLog({ dir })).close()
    let node: VsdbNode | undefined
    const r = await timed(async () => {
      const t = performance.now()
      node = await openNode({ dir, parts: defaultParts() })
      const openSeconds = (performance.now() - t) / 1000
      const summary = await node.ingest(files)
      const ingestSeconds = (performance.now() - t) / 1000 - openSeconds
      // The live digest is not part of the pipeline: computed outside the phases above, inside the clock.
      const d = performance.now()
      const live = node.digest()
      const digestSeconds = (performance.now() - d) / 1000
      const closeSeconds = await closing(node)
      return { summary, live, phases: { open: openSeconds, ingest: ingestSeconds, digest: digestSeconds, close: closeSeconds } }
    })
    const { summary, live, phases } = r.value
    return {
      step,
      seconds: r.seconds - phases.digest,
      cpuSeconds: r.cpuSeconds,
      rows: summary.rows,
      events: live.events,
      segments: summary.segments,
      digest: live.digest,
      phases,
    }
  }
  if (step === 'vsdb-open' || step === 'vsdb-open-fresh') {
    if (step === 'vsdb-open-fresh') await rm(join(dir, 'projections'), { recursive: true, force: true })
    const r = await timed(() => openNode({ dir, parts: defaultParts() }))
    const node = r.value
    const { events, digest } = node.digest()
    const loadedFrom = node.loadedFrom
    const closeSeconds = await closing(node)
    return { step, seconds: r.seconds, cpuSeconds: r.cpuSeconds, events, digest, loadedFrom, phases: { close: closeSeconds } }
  }
  if (step === 'vsdb-replay') {
    const node = await openNode({ dir, parts: defaultParts() })
    try {
      const r = await timed(() => node.replay())
      return {
        step,
        seconds: r.seconds,
        cpuSeconds: r.cpuSeconds,
        events: r.value.events,
        digest: r.value.digest,
        live: node.digest().digest,
      }
    } finally {
      await node.close()
    }
  }
  throw new Error(`unknown step ${step}`)
}

const result = await run()
const out: StepResult = {
  ...result,
  ...(await processRss()),
  floorRssMB,
  processSeconds: (performance.now() - started) / 1000,
}
console.log(JSON.stringify(out))

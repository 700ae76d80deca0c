import { rename, rm, stat } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { type ObservationFormat, parseTimestamp, type ReleaseSummary } from '@vsdb/engine'
import { initLog, type RetentionPolicy, resolveDataDir, VsdbError } from '@vsdb/log'
import { withNodeAccess } from './node-access.ts'
import { printResult } from './output.ts'
import { createIngestProgress } from './progress.ts'

export interface GlobalOptions {
  dir?: string
  json?: boolean
}

export async function initCommand(
  options: GlobalOptions & { role?: 'edge' | 'coordinator'; cluster?: string; raw?: RetentionPolicy },
): Promise<void> {
  const log = await initLog({ dir: resolveDataDir(options.dir), role: options.role, cluster: options.cluster, raw: options.raw })
  try {
    const { config } = log
    printResult(
      options,
      {
        ok: true,
        dir: log.dir,
        node: log.node,
        role: config.role,
        cluster: config.cluster,
        genesis: config.genesis,
        raw: options.raw ?? 'keep',
      },
      () =>
        [
          `initialised ${log.dir}`,
          `node     ${log.node}`,
          `role     ${config.role}`,
          `cluster  ${config.cluster}`,
          `genesis  ${config.genesis}`,
          `raw      ${options.raw ?? 'keep'}`,
        ].join('\n'),
    )
  } finally {
    await log.close()
  }
}

export async function ingestCommand(
  files: string[],
  options: GlobalOptions & { entity?: string; format?: ObservationFormat },
): Promise<void> {
  await withNodeAccess(options.dir, async (node) => {
    const progress = createIngestProgress(!options.json && process.stderr.isTTY === true)
    const started = performance.now()
    try {
      const summary = await node.ingest(files, { entity: options.entity, format: options.format, onProgress: progress.update })
      progress.stop()
      const seconds = (performance.now() - started) / 1000
      const rate = Math.round(summary.rows / Math.max(seconds, 1e-9))
      printResult(
        options,
        { ok: true, ...summary, seconds, rowsPerSecond: rate },
        () =>
          `ingested ${summary.rows} observations of ${summary.entities.length} entities (${summary.entities.join(', ')}) from ${summary.files} file(s): ${summary.events} events, ${summary.segments} segments sealed, in ${seconds.toFixed(2)} s (${rate} rows/s)${releasedNote((summary as { released?: ReleaseSummary }).released)}`,
      )
    } finally {
      progress.stop()
    }
  })
}

/** Raw retention after an ingest (drop-after-seal): what it released, or why it could not (the ingest itself is in). */
function releasedNote(released: ReleaseSummary | undefined): string {
  if (released === undefined || (released.batches === 0 && released.error === undefined)) return ''
  if (released.error !== undefined) return `; releasing sealed raw batches failed (the next ingest retries): ${released.error}`
  return `; ${released.batches} raw batch(es) released by policy`
}

export interface QueryCommandOptions extends GlobalOptions {
  vector?: string
  like?: string
  k: string
  entity?: string
  from?: string
  to?: string
  minAnomaly?: string
  regime?: string
}

function parseNumber(value: string, field: string, check: (n: number) => boolean, what: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || !check(n))
    throw new VsdbError('INVALID_INPUT', `${field}: ${JSON.stringify(value)} is not ${what}`, { field })
  return n
}

function parseVector(value: string): number[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    throw new VsdbError('INVALID_INPUT', '--vector: not JSON (expected an array of numbers, e.g. [1.5, 2])', { field: '--vector' })
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new VsdbError('INVALID_INPUT', '--vector: expected a non-empty JSON array of finite numbers', { field: '--vector' })
  }
  return parsed as number[]
}

export async function queryCommand(options: QueryCommandOptions): Promise<void> {
  const k = parseNumber(options.k, '-k', (n) => Number.isInteger(n) && n > 0, 'a positive integer')
  const query = {
    k,
    vector: options.vector === undefined ? undefined : parseVector(options.vector),
    like: options.like,
    entity: options.entity,
    from: options.from === undefined ? undefined : parseTime(options.from, '--from'),
    to: options.to === undefined ? undefined : parseTime(options.to, '--to'),
    minAnomaly:
      options.minAnomaly === undefined
        ? undefined
        : parseNumber(options.minAnomaly, '--min-anomaly', (n) => n >= 0 && n <= 1, 'a number in [0, 1]'),
    regime: options.regime,
  }
  await withNodeAccess(options.dir, async (node) => {
    const hits = await node.query(query)
    printResult(options, { ok: true, k, hits }, () =>
      hits.length === 0
        ? 'no segment matches'
        : hits
            .map(
              (h) =>
                `${h.distance.toPrecision(4).padStart(10)}  ${h.entity}  ${new Date(h.from).toISOString()} → ${new Date(h.to).toISOString()}  anomaly ${h.anomaly.toFixed(3)}  ${h.regime}  ${h.cid}`,
            )
            .join('\n'),
    )
  })
}

export async function digestCommand(options: GlobalOptions): Promise<void> {
  await withNodeAccess(options.dir, async (node) => {
    const { events, digest } = await node.digest()
    printResult(options, { events, digest }, () => `${digest}  (${events} events)`)
  })
}

export async function replayCommand(options: GlobalOptions & { into?: string }): Promise<void> {
  await withNodeAccess(options.dir, async (node) => {
    const started = performance.now()
    const result = await node.replay(options.into === undefined ? undefined : resolve(options.into))
    const seconds = (performance.now() - started) / 1000
    printResult(
      options,
      { ...result, seconds },
      () => `replayed ${result.events} events in ${seconds.toFixed(2)} s: digest ${result.digest}`,
    )
  })
}

/** --from / --to: epoch milliseconds, or any timestamp the ingest readers accept (ISO 8601, NAB's format). */
export function parseTime(value: string, field: string): number {
  const ms = /^-?\d+$/.test(value) ? Number(value) : parseTimestamp(value)
  if (ms === undefined || !Number.isSafeInteger(ms))
    throw new VsdbError('INVALID_INPUT', `${field}: cannot read ${JSON.stringify(value)} as a time`, { field })
  return ms
}

export async function readCommand(
  options: GlobalOptions & { entity: string; from?: string; to?: string; format?: 'csv' | 'jsonl' },
): Promise<void> {
  const from = options.from === undefined ? undefined : parseTime(options.from, '--from')
  const to = options.to === undefined ? undefined : parseTime(options.to, '--to')
  await withNodeAccess(options.dir, async (node) => {
    const { rows, dim: entityDim } = await node.read({ entity: options.entity, from, to })
    const format = options.json ? 'jsonl' : (options.format ?? 'csv')
    const out: string[] = []
    if (format === 'csv') {
      const dim = rows[0]?.vector.length ?? entityDim ?? 1
      out.push(['timestamp', ...Array.from({ length: dim }, (_, d) => `v${d}`)].join(','))
      for (const row of rows) out.push([new Date(row.ts).toISOString(), ...row.vector].join(','))
    } else {
      for (const row of rows) out.push(JSON.stringify({ entity: row.entity, ts: row.ts, vector: row.vector }))
    }
    process.stdout.write(`${out.join('\n')}\n`)
    if (options.json) process.stdout.write(`${JSON.stringify({ ok: true, entity: options.entity, rows: rows.length })}\n`)
  })
}

export async function statusCommand(options: GlobalOptions): Promise<void> {
  await withNodeAccess(options.dir, async (node) => {
    const status = await node.status()
    printResult(options, status, () => JSON.stringify(status, null, 2))
  })
}

export async function auditCommand(options: GlobalOptions): Promise<void> {
  await withNodeAccess(options.dir, async (node) => {
    const started = performance.now()
    const report = await node.audit()
    const seconds = (performance.now() - started) / 1000
    const first = report.problems[0]
    printResult(options, { ...report, seconds }, () =>
      first === undefined
        ? `audit clean: ${report.events} events of ${report.nodes} node(s), ${report.linkedBlocks} linked blocks, ${report.forks} forks, ${report.unpinned} unpinned, ${report.released} blocks released by policy, in ${seconds.toFixed(2)} s`
        : `audit FAILED: ${report.problems.length} problem(s); first: ${first.message}`,
    )
    if (first !== undefined) {
      throw new VsdbError(first.code, `audit failed at ${first.cid} (node ${first.node}, seq ${first.seq}): ${first.message}`, {
        cid: first.cid,
        node: first.node,
        seq: first.seq,
      })
    }
  })
}

async function assertWritableTarget(path: string): Promise<void> {
  const parent = dirname(resolve(path))
  const info = await stat(parent).catch(() => null)
  if (info === null || !info.isDirectory()) {
    throw new VsdbError('INVALID_INPUT', `cannot write ${path}: directory ${parent} does not exist`, { path })
  }
}

async function assertReadableFile(path: string): Promise<void> {
  const info = await stat(path).catch(() => null)
  if (info === null) throw new VsdbError('NOT_FOUND', `cannot read ${path}: no such file`, { path })
  if (!info.isFile()) throw new VsdbError('INVALID_INPUT', `cannot read ${path}: not a file`, { path })
}

export async function exportCommand(options: GlobalOptions & { car: string }): Promise<void> {
  await assertWritableTarget(options.car)
  await withNodeAccess(options.dir, async (node) => {
    const tmp = `${options.car}.partial`
    try {
      const counts = await node.exportCar(tmp)
      await rename(tmp, options.car)
      printResult(options, { ok: true, car: options.car, ...counts }, () =>
        'events' in counts
          ? `exported ${counts.events} events, ${counts.blocks} blocks, ${(counts.roots as string[]).length} root(s) to ${options.car}${counts.released ? ` (${counts.released} raw blocks released by policy are not in it)` : ''}`
          : `exported the running node's archive (${node.remote}) to ${options.car}`,
      )
    } catch (err) {
      await rm(tmp, { force: true })
      throw err
    }
  })
}

export async function importCommand(options: GlobalOptions & { car: string }): Promise<void> {
  await assertReadableFile(options.car)
  await withNodeAccess(options.dir, async (node) => {
    const result = await node.importCar(options.car)
    printResult(options, { ok: true, car: options.car, ...result }, () =>
      result.newEvents === 0 && result.newBlocks === 0
        ? `nothing new in ${options.car}: all ${result.events} events already held`
        : `imported ${result.newEvents} new events and ${result.newBlocks} blocks from ${options.car}${result.forks > 0 ? `; ${result.forks} fork(s) recorded as conflicts` : ''}`,
    )
  })
}

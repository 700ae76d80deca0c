import { createReadStream, createWriteStream } from 'node:fs'
import { rename, rm, stat } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { clusterStatus, ingestFiles, type ObservationFormat } from '@vsdb/engine'
import { auditLog, exportCar, importCar, initLog, type Log, openLog, resolveDataDir, VsdbError } from '@vsdb/log'
import { printResult } from './output.ts'
import { createIngestProgress } from './progress.ts'

export interface GlobalOptions {
  dir?: string
  json?: boolean
}

async function withLog<T>(options: GlobalOptions, run: (log: Log) => Promise<T>): Promise<T> {
  const log = await openLog({ dir: resolveDataDir(options.dir) })
  try {
    return await run(log)
  } finally {
    await log.close()
  }
}

export async function initCommand(options: GlobalOptions & { role?: 'edge' | 'coordinator'; cluster?: string }): Promise<void> {
  const log = await initLog({ dir: resolveDataDir(options.dir), role: options.role, cluster: options.cluster })
  try {
    const { config } = log
    printResult(
      options,
      { ok: true, dir: log.dir, node: log.node, role: config.role, cluster: config.cluster, genesis: config.genesis },
      () =>
        [
          `initialised ${log.dir}`,
          `node     ${log.node}`,
          `role     ${config.role}`,
          `cluster  ${config.cluster}`,
          `genesis  ${config.genesis}`,
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
  await withLog(options, async (log) => {
    const progress = createIngestProgress(!options.json && process.stderr.isTTY === true)
    const started = performance.now()
    try {
      const summary = await ingestFiles(log, files, { entity: options.entity, format: options.format, onProgress: progress.update })
      progress.stop()
      const seconds = (performance.now() - started) / 1000
      const rate = Math.round(summary.rows / Math.max(seconds, 1e-9))
      printResult(
        options,
        { ok: true, ...summary, seconds, rowsPerSecond: rate },
        () =>
          `ingested ${summary.rows} observations of ${summary.entities.length} entities (${summary.entities.join(', ')}) from ${summary.files} file(s) as ${summary.events} events in ${seconds.toFixed(2)} s (${rate} rows/s)`,
      )
    } finally {
      progress.stop()
    }
  })
}

export async function statusCommand(options: GlobalOptions): Promise<void> {
  await withLog(options, async (log) => {
    const status = await clusterStatus(log)
    printResult(options, status, () => JSON.stringify(status, null, 2))
  })
}

export async function auditCommand(options: GlobalOptions): Promise<void> {
  await withLog(options, async (log) => {
    const started = performance.now()
    const report = await auditLog(log)
    const seconds = (performance.now() - started) / 1000
    const first = report.problems[0]
    printResult(options, { ...report, seconds }, () =>
      first === undefined
        ? `audit clean: ${report.events} events of ${report.nodes} node(s), ${report.linkedBlocks} linked blocks, ${report.forks} forks, ${report.unpinned} unpinned, in ${seconds.toFixed(2)} s`
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
  await withLog(options, async (log) => {
    const tmp = `${options.car}.partial`
    try {
      const car = await exportCar(log)
      await pipeline(Readable.from(car.out), createWriteStream(tmp))
      const counts = await car.done
      await rename(tmp, options.car)
      printResult(
        options,
        { ok: true, car: options.car, roots: car.roots.map(String), ...counts },
        () => `exported ${counts.events} events, ${counts.blocks} blocks, ${car.roots.length} root(s) to ${options.car}`,
      )
    } catch (err) {
      await rm(tmp, { force: true })
      throw err
    }
  })
}

export async function importCommand(options: GlobalOptions & { car: string }): Promise<void> {
  await assertReadableFile(options.car)
  await withLog(options, async (log) => {
    const result = await importCar(log, createReadStream(options.car))
    printResult(options, { ok: true, car: options.car, ...result }, () =>
      result.newEvents === 0 && result.newBlocks === 0
        ? `nothing new in ${options.car}: all ${result.events} events already held`
        : `imported ${result.newEvents} new events and ${result.newBlocks} blocks from ${options.car}${result.forks > 0 ? `; ${result.forks} fork(s) recorded as conflicts` : ''}`,
    )
  })
}

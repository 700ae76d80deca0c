// `npm start`: a node on the bundled real data set, from nothing but this repository.
import { readdir } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { clusterStatus, entitySummaries, ingestFiles } from '@vsdb/engine'
import { initLog, isVsdbError, type Log, openLog, resolveDataDir } from '@vsdb/log'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const dataDir = join(root, 'data', 'nab')

async function openOrInit(dir: string): Promise<Log> {
  try {
    return await openLog({ dir })
  } catch (err) {
    if (!isVsdbError(err, 'NOT_INITIALIZED')) throw err
    console.log(`initialising a node in ${dir}`)
    return initLog({ dir })
  }
}

async function main(): Promise<void> {
  const dir = resolveDataDir()
  const log = await openOrInit(dir)
  try {
    const held = await entitySummaries(log)
    const files = (await readdir(dataDir)).filter((f) => f.endsWith('.csv')).sort()
    const missing = files.filter((f) => !held.has(basename(f, '.csv'))).map((f) => join(dataDir, f))
    if (missing.length > 0) {
      const summary = await ingestFiles(log, missing)
      console.log(
        `ingested ${summary.rows} observations of ${summary.entities.length} entities from data/nab (${summary.events} signed events)`,
      )
    } else {
      console.log(`the bundled data set is already in ${dir}`)
    }
    console.log(`node ${log.node} in ${dir}`)
    console.log(JSON.stringify(await clusterStatus(log), null, 2))
  } finally {
    await log.close()
  }
}

main().catch((err: unknown) => {
  console.error(`npm start: ${err instanceof Error ? err.message : String(err)}`)
  process.exitCode = 1
})

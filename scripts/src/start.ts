// `npm start`: a node on the bundled real data set, from nothing but this repository.
import { readdir } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runCli } from '@vsdb/api'
import { defaultParts, openNode } from '@vsdb/engine'
import { initLog, isVsdbError, resolveDataDir } from '@vsdb/log'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const dataDir = join(root, 'data', 'nab')

async function initIfNeeded(dir: string): Promise<void> {
  try {
    await (await initLog({ dir })).close()
    console.log(`initialised a node in ${dir}`)
  } catch (err) {
    if (!isVsdbError(err, 'ALREADY_INITIALIZED')) throw err
  }
}

async function main(): Promise<void> {
  const dir = resolveDataDir()
  await initIfNeeded(dir)
  const node = await openNode({ dir, parts: defaultParts() })
  try {
    const held = new Set(node.views.entities().map((e) => e.entity))
    const files = (await readdir(dataDir)).filter((f) => f.endsWith('.csv')).sort()
    const missing = files.filter((f) => !held.has(basename(f, '.csv'))).map((f) => join(dataDir, f))
    if (missing.length > 0) {
      const summary = await node.ingest(missing)
      console.log(
        `ingested ${summary.rows} observations of ${summary.entities.length} entities from data/nab: ${summary.events} signed events, ${summary.segments} segments`,
      )
    } else {
      console.log(`the bundled data set is already in ${dir}`)
    }
  } finally {
    await node.close()
  }
  // Serve it: the dashboard URL and a fresh read token are printed; Ctrl-C stops it.
  process.exitCode = await runCli([
    process.argv[0] ?? 'node',
    'vsdb',
    '--dir',
    dir,
    'serve',
    '--port',
    process.env.PORT ?? '7300',
    '--print-token',
  ])
}

main().catch((err: unknown) => {
  console.error(`npm start: ${err instanceof Error ? err.message : String(err)}`)
  process.exitCode = 1
})

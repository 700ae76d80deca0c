import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { z } from 'zod'
import { VsdbError } from './errors.ts'
import { describeZodError } from './schema.ts'

/** The on-disk format this code writes; a directory with a higher number was made by a newer version. */
export const DATA_FORMAT = 1

export const configSchema = z.object({
  format: z.number().int().positive(),
  node: z.string().min(1),
  role: z.enum(['edge', 'coordinator']),
  cluster: z.string().min(1),
  createdAt: z.string(),
  genesis: z.string(),
})
export type NodeConfig = z.infer<typeof configSchema>

export interface DataDirPaths {
  dir: string
  config: string
  key: string
  db: string
  owner: string
}

export function resolveDataDir(dir?: string): string {
  return resolve(dir ?? process.env.VSDB_DIR ?? '.vsdb')
}

export function dataDirPaths(dir: string): DataDirPaths {
  const root = resolve(dir)
  return {
    dir: root,
    config: join(root, 'config.json'),
    key: join(root, 'node.key'),
    db: join(root, 'db'),
    owner: join(root, 'owner.json'),
  }
}

export async function readConfig(paths: DataDirPaths): Promise<NodeConfig> {
  return parseConfig(paths, await readConfigText(paths))
}

/** The config file's text: NOT_INITIALIZED when there is none (a directory `vsdb init` did not make). */
export async function readConfigText(paths: DataDirPaths): Promise<string> {
  try {
    return await readFile(paths.config, 'utf8')
  } catch {
    throw new VsdbError('NOT_INITIALIZED', `${paths.dir} is not a vsdb data directory: run \`vsdb init\` first`, {
      path: paths.dir,
    })
  }
}

/** The config, checked: its format one this code reads, its fields those of configSchema. */
export function parseConfig(paths: DataDirPaths, text: string): NodeConfig {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new VsdbError('INVALID_INPUT', `${paths.config} is not valid JSON`, { path: paths.config })
  }
  const format = (json as { format?: unknown } | null)?.format
  if (typeof format === 'number' && format > DATA_FORMAT) {
    throw new VsdbError('VERSION_TOO_NEW', `${paths.dir} has data format ${format}, this vsdb reads up to ${DATA_FORMAT}: upgrade vsdb`, {
      path: paths.dir,
      field: 'format',
    })
  }
  // Interpreted, not compiled: zod compiles a parser on an object schema's first parse, which costs more than
  // checking this one small file (an open waits on it).
  const parsed = configSchema.safeParse(json, { jitless: true })
  if (!parsed.success) {
    const { field, message } = describeZodError(parsed.error)
    throw new VsdbError('INVALID_INPUT', `${paths.config}: ${field}: ${message}`, { path: paths.config, field })
  }
  return parsed.data
}

export async function writeConfig(paths: DataDirPaths, config: NodeConfig): Promise<void> {
  await mkdir(paths.dir, { recursive: true })
  const tmp = `${paths.config}.tmp`
  await writeFile(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o644 })
  await rename(tmp, paths.config)
}

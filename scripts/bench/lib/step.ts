/**
 * Runs one step of the ingest and replay benches in a child process (see ingest-child.ts) and returns what it
 * measured. `profileDir` adds `--cpu-prof` to the child, so a slow step can be looked at in a profile.
 */
import { execFileSync, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { availableParallelism, loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export type StepName = 'vsdb-warm' | 'vsdb-ingest' | 'level-csv' | 'level-preparsed' | 'vsdb-open' | 'vsdb-open-fresh' | 'vsdb-replay'

export interface StepInput {
  step: StepName
  dir: string
  files?: string[]
}

export interface StepResult {
  step: StepName
  /** Wall-clock seconds of the measured part (see ingest-child.ts for what each step measures). */
  seconds: number
  /** CPU seconds of the whole child process (every thread) over the measured part. */
  cpuSeconds: number
  rows?: number
  events?: number
  segments?: number
  digest?: string
  /** The live node's digest beside a replay's. */
  live?: string
  loadedFrom?: { checkpoint: boolean; tail: number; reason?: string }
  phases?: Record<string, number>
  /** Peak resident set of the child over its whole life (VmHWM), MiB. */
  peakRssMB: number
  /** RSS when the step ended: anonymous memory and file-backed pages (binary, mmapped Level tables), MiB. */
  endRssMB?: { anon: number; file: number }
  /** RSS once the child's modules were loaded, before the step: the floor any step pays. */
  floorRssMB: number
  processSeconds: number
}

const CHILD = fileURLToPath(new URL('./ingest-child.ts', import.meta.url))
const VSDB_BIN = fileURLToPath(new URL('../../../api/bin/vsdb.mjs', import.meta.url))

/** The V8 flags the `vsdb` command runs with (its shebang line's), so that a vsdb step runs as the command does. */
function vsdbFlags(): string[] {
  const shebang = readFileSync(VSDB_BIN, 'utf8').split('\n', 1)[0] ?? ''
  return shebang.split(/\s+/).filter((word) => word.startsWith('--'))
}

/**
 * Node's compile cache, as the vsdb command turns it on (api/bin/vsdb.mjs): every child runs with it (both sides), and
 * it is filled once before the first measured step, as any earlier command would have (else the first child alone
 * would strip and compile every module, and hold the type stripper's memory).
 */
const COMPILE_CACHE = fileURLToPath(new URL('../../../node_modules/.cache/node-compile-cache', import.meta.url))
let cacheWarm: Promise<unknown> | null = null

export async function runStep(input: StepInput, options: { profileDir?: string } = {}): Promise<StepResult> {
  // A failed warm-up only leaves the cache cold: the measured step then says what is wrong, if anything.
  cacheWarm ??= spawnStep({ step: 'vsdb-warm', dir: input.dir }, {}).catch(() => {})
  await cacheWarm
  return await spawnStep(input, options)
}

async function spawnStep(input: StepInput, options: { profileDir?: string }): Promise<StepResult> {
  const flags =
    options.profileDir === undefined
      ? []
      : ['--cpu-prof', '--cpu-prof-dir', options.profileDir, `--cpu-prof-name=${input.step}-${Date.now()}.cpuprofile`]
  const vsdb = input.step.startsWith('vsdb') ? vsdbFlags() : []
  const child = spawn(process.execPath, [...vsdb, ...flags, CHILD, JSON.stringify(input)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_COMPILE_CACHE: COMPILE_CACHE },
  })
  let stdout = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk
  })
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (c) => resolve(c))
  })
  const last = stdout.trim().split('\n').at(-1) ?? ''
  if (code !== 0) throw new Error(`bench step ${input.step} exited with ${code}: ${last.slice(0, 500)}`)
  try {
    return JSON.parse(last) as StepResult
  } catch {
    throw new Error(`bench step ${input.step} printed no result: ${stdout.slice(-500)}`)
  }
}

/** Bytes of every file under a directory. */
export async function dirBytes(dir: string): Promise<number> {
  let total = 0
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size
  }
  return total
}

/**
 * `--quick` and `--profile DIR`, the flags the benches take, and `--NAME N` for each of `numeric` (a bench's own
 * numbers, e.g. `--seconds 5`); anything else is an error.
 */
export function parseBenchArgs(
  bench: string,
  args: string[],
  numeric: readonly string[] = [],
): { quick: boolean; profileDir?: string; numbers: Record<string, number> } {
  let quick = false
  let profileDir: string | undefined
  const numbers: Record<string, number> = {}
  const usage = ['[--quick]', '[--profile DIR]', ...numeric.map((name) => `[--${name} N]`)].join(' ')
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string
    const name = arg.slice(2)
    if (arg === '--quick') quick = true
    else if (arg === '--profile' && args[i + 1] !== undefined) profileDir = resolve(args[++i] as string)
    else if (arg.startsWith('--') && numeric.includes(name) && Number.isFinite(Number(args[i + 1]))) numbers[name] = Number(args[++i])
    else throw new Error(`unknown argument ${arg}; usage: npm run bench -- ${bench} ${usage}`)
  }
  return { quick, ...(profileDir === undefined ? {} : { profileDir }), numbers }
}

/** The commit measured, and the files of the measured packages that differ from it (work in progress). */
export function revision(packages: readonly string[] = ['log', 'projections', 'engine']): { commit: string; modified: string[] } {
  const root = fileURLToPath(new URL('../../../', import.meta.url))
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' })
  try {
    // Porcelain lines are `XY path`: two status letters (either may be a space), a space, the path.
    const modified = git('status', '--porcelain', '--', ...packages)
      .split('\n')
      .filter((l) => l.length > 3)
      .map((l) => l.slice(3))
    return { commit: git('rev-parse', '--short', 'HEAD').trim(), modified }
  } catch {
    return { commit: 'unknown', modified: [] }
  }
}

/** The machine's load averages, printed before and after a run so a reader can judge the figures. */
export function load(): string {
  return loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')
}

/** The fields a bench's JSON line opens with: which bench, the machine, the commit, and the load before and now. */
export function summaryHead(
  bench: string,
  quick: boolean,
  measured: ReturnType<typeof revision>,
  loadBefore: string,
): {
  bench: string
  quick: boolean
  node: string
  cores: number
  revision: ReturnType<typeof revision>
  loadBefore: string
  loadAfter: string
} {
  return { bench, quick, node: process.version, cores: availableParallelism(), revision: measured, loadBefore, loadAfter: load() }
}

/** The opening line of a bench that runs each step in a child process: machine, load, size and commit. */
export function announce(bench: string, quick: boolean, rows: number): { loadBefore: string; measured: ReturnType<typeof revision> } {
  const loadBefore = load()
  const measured = revision()
  console.error(
    `${bench} bench${quick ? ' (quick)' : ''}: node ${process.version}, ${availableParallelism()} cores, load ${loadBefore}; ` +
      `${rows.toLocaleString('en-US')} observations per case, each step in a child process, temp dirs on disk; ` +
      `commit ${measured.commit}${measured.modified.length > 0 ? ` + ${measured.modified.length} modified files in log/projections/engine` : ''}`,
  )
  return { loadBefore, measured }
}

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { ClassicLevel } from 'classic-level'
import { expect } from 'vitest'

/** The CLI entry point, run with the Node that runs the tests (Node 24: it strips the types itself). */
export const VSDB_BIN = fileURLToPath(new URL('../../api/bin/vsdb.mjs', import.meta.url))
export const NYC_TAXI = fileURLToPath(new URL('../../data/nab/nyc_taxi.csv', import.meta.url))

export interface CliRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** The JSON object on the last line of stdout (with --json), else undefined. */
  json: Record<string, unknown> | undefined
}

/** Runs `vsdb --dir DIR ARGS… --json` to completion. */
export function vsdb(dir: string, args: string[], options: { json?: boolean } = {}): Promise<CliRun> {
  const json = options.json ?? true
  const argv = [VSDB_BIN, '--dir', dir, ...args, ...(json ? ['--json'] : [])]
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    child.once('error', reject)
    child.once('close', (code, signal) => {
      let parsed: Record<string, unknown> | undefined
      if (json) {
        const last = stdout.trimEnd().split('\n').at(-1) ?? ''
        try {
          parsed = JSON.parse(last) as Record<string, unknown>
        } catch {
          parsed = undefined
        }
      }
      resolve({ code, signal, stdout, stderr, json: parsed })
    })
  })
}

export interface CliError {
  code: string
  message: string
  cid?: string
  node?: string
  seq?: number
  line?: number
  column?: string
  [key: string]: unknown
}

/**
 * The error contract of every command: non-zero exit, exactly one line `vsdb: <message>` on stderr, and with
 * --json `{ok: false, error: {code, message, …}}` as the last line of stdout. Returns the error object.
 */
export function expectCliError(run: CliRun, code: string): CliError {
  const context = `stdout: ${run.stdout}\nstderr: ${run.stderr}`
  expect(run.code, context).not.toBe(0)
  expect(run.code, context).not.toBeNull()
  const lines = run.stderr.trimEnd().split('\n')
  expect(lines, context).toHaveLength(1)
  expect(lines[0], context).toMatch(/^vsdb: \S/)
  expect(run.json, context).toBeDefined()
  expect(run.json?.ok, context).toBe(false)
  const error = run.json?.error as CliError
  expect(error.code, context).toBe(code)
  expect(typeof error.message).toBe('string')
  // The stderr line is the first line of the same message.
  expect(lines[0]).toBe(`vsdb: ${error.message.split('\n')[0]}`)
  return error
}

/** A successful command: exit 0 and `ok: true` (status has no `ok`: it is the cluster status object). */
export function expectCliOk(run: CliRun): Record<string, unknown> {
  const context = `exit ${run.code} ${run.signal ?? ''}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`
  expect(run.code, context).toBe(0)
  expect(run.json, context).toBeDefined()
  if (run.json !== undefined && 'ok' in run.json) expect(run.json.ok, context).toBe(true)
  return run.json as Record<string, unknown>
}

export interface LevelDump {
  entries: number
  /** sha-256 over every key and value in key order. */
  digest: string
  /** Entries per sublevel (`!blocks!`, `!seq!`, …). */
  bySublevel: Record<string, number>
}

/** The raw Level db of a closed data directory, as any tool with access to the files could open it. */
export async function openStoreDb(dir: string): Promise<ClassicLevel<Uint8Array, Uint8Array>> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(join(dir, 'db'), {
    keyEncoding: 'view',
    valueEncoding: 'view',
    createIfMissing: false,
  })
  await db.open()
  return db
}

/** Every key and value of a data directory's Level store (which must not be open elsewhere). */
export async function dumpLevel(dir: string): Promise<LevelDump> {
  const db = await openStoreDb(dir)
  try {
    const hash = createHash('sha256')
    const bySublevel: Record<string, number> = {}
    let entries = 0
    for await (const [key, value] of db.iterator()) {
      entries++
      const text = Buffer.from(key).toString('latin1')
      const sublevel = /^!([^!]*)!/.exec(text)?.[1] ?? '(root)'
      bySublevel[sublevel] = (bySublevel[sublevel] ?? 0) + 1
      for (const part of [key, value]) {
        const length = Buffer.alloc(4)
        length.writeUInt32BE(part.length)
        hash.update(length).update(part)
      }
    }
    return { entries, digest: hash.digest('hex'), bySublevel }
  } finally {
    await db.close()
  }
}

/** Reads a child's stdout line by line: `next()` resolves with the next line, or rejects when the child ends first. */
export function lineReader(child: ChildProcessWithoutNullStreams, timeoutMs = 20_000): { next(): Promise<string> } {
  const lines: string[] = []
  const waiters: { resolve: (line: string) => void; reject: (err: Error) => void }[] = []
  let ended = false
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const rl = createInterface({ input: child.stdout })
  rl.on('line', (line) => {
    const waiter = waiters.shift()
    if (waiter !== undefined) waiter.resolve(line)
    else lines.push(line)
  })
  rl.on('close', () => {
    ended = true
    for (const waiter of waiters.splice(0)) waiter.reject(new Error(`child output ended; stderr: ${stderr}`))
  })
  return {
    next() {
      const line = lines.shift()
      if (line !== undefined) return Promise.resolve(line)
      if (ended) return Promise.reject(new Error(`child output ended; stderr: ${stderr}`))
      return new Promise((resolve, reject) => {
        const waiter = {
          resolve: (l: string) => {
            clearTimeout(timer)
            resolve(l)
          },
          reject: (e: Error) => {
            clearTimeout(timer)
            reject(e)
          },
        }
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1)
          reject(new Error(`no line from the child in ${timeoutMs} ms; stderr: ${stderr}`))
        }, timeoutMs)
        waiters.push(waiter)
      })
    },
  }
}

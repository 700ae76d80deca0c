import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { auditLog, initLog, openLog } from '@vsdb/log'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// "An acknowledged write is durable: it survives `kill -9`." A child appends to a real Level store as fast as it
// can and reports each event only after its promise resolved; we SIGKILL it at a random moment, reopen the same
// directory, and require every reported (seq, CID) to be there and the whole store to pass the audit. Ten rounds on
// one directory, so each round also starts from a store a previous kill left behind.
const CHILD = fileURLToPath(new URL('../fixtures/append-child.ts', import.meta.url))
const ROUNDS = 10
const MIN_KILL_MS = 150
const MAX_KILL_MS = 600

/** mulberry32: the kill delays are random but reproducible from the seed printed with the results. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface ChildRun {
  node: string
  /** The head seq the child found when it opened the store. */
  startSeq: number
  /** Acknowledged events, in the order the child reported them. */
  acked: { seq: number; cid: string }[]
  signal: NodeJS.Signals | null
  exitCode: number | null
  stderr: string
}

/** Resolves once the child has exited and its stdout and stderr are drained. */
function waitForClose(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => child.once('close', () => resolve()))
}

/** Starts the child, waits for `ready`, kills it with SIGKILL `killAfterMs` later, and parses what it acknowledged. */
async function runAndKill(dir: string, killAfterMs: number): Promise<ChildRun> {
  const child = spawn(process.execPath, [CHILD, dir], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8')
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk
  })
  const closed = waitForClose(child)
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child not ready after 20 s; stderr: ${stderr}`)), 20_000)
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk
      if (stdout.includes('\n')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`child exited before ready (code ${code}, signal ${signal}); stderr: ${stderr}`))
    })
  })
  await new Promise((r) => setTimeout(r, killAfterMs))
  child.kill('SIGKILL')
  await closed

  // Only complete lines count: a line cut by the kill was never fully reported.
  const lines = stdout.slice(0, stdout.lastIndexOf('\n')).split('\n')
  const [ready, ...rest] = lines
  const readyMatch = /^ready (\S+) (-?\d+)$/.exec(ready ?? '')
  if (readyMatch === null) throw new Error(`first line is not "ready NODE SEQ": ${JSON.stringify(ready)}`)
  const acked = rest.map((line) => {
    const m = /^(\d+) (b[a-z2-7]{58})$/.exec(line)
    if (m === null) throw new Error(`child printed a line that is not "SEQ CID": ${JSON.stringify(line)}`)
    return { seq: Number(m[1]), cid: m[2] as string }
  })
  return {
    node: readyMatch[1] as string,
    startSeq: Number(readyMatch[2]),
    acked,
    signal: child.signalCode,
    exitCode: child.exitCode,
    stderr,
  }
}

describe('kill -9 while appending', () => {
  let root: string
  let dir: string
  let node: string

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'vsdb-crash-'))
    dir = join(root, 'node')
    const log = await initLog({ dir })
    node = log.node
    await log.close()
  })

  afterAll(async () => {
    if (root !== undefined) await rm(root, { recursive: true, force: true })
  })

  it(`every acknowledged event survives ${ROUNDS} SIGKILLs on the same directory`, { timeout: 120_000 }, async () => {
    const seed = Number(process.env.VSDB_CRASH_SEED ?? Date.now() % 2 ** 31)
    const random = prng(seed)
    /** Every event acknowledged in any round so far: seq → CID. */
    const acknowledged = new Map<number, string>()
    let durableSeq = 0 // the genesis written by initLog
    const rows: Record<string, number | string>[] = []

    for (let round = 1; round <= ROUNDS; round++) {
      const killAfter = Math.round(MIN_KILL_MS + random() * (MAX_KILL_MS - MIN_KILL_MS))
      const started = performance.now()
      const run = await runAndKill(dir, killAfter)
      const childMs = performance.now() - started

      // It was our SIGKILL that ended it, not a crash of its own.
      expect(run.signal, `round ${round}: child stderr: ${run.stderr}`).toBe('SIGKILL')
      expect(run.node).toBe(node)
      // The child resumed exactly where the last kill left the store (what we read back after the previous round).
      expect(run.startSeq, `round ${round}: child opened at a different head`).toBe(durableSeq)
      expect(run.acked.length, `round ${round}: nothing was acknowledged in ${killAfter} ms`).toBeGreaterThan(0)
      for (const { seq, cid } of run.acked) {
        expect(seq, `round ${round}: acknowledged seq ${seq} is not after the head the child opened`).toBeGreaterThan(run.startSeq)
        expect(acknowledged.has(seq), `round ${round}: seq ${seq} acknowledged twice`).toBe(false)
        acknowledged.set(seq, cid)
      }

      const checkStarted = performance.now()
      const log = await openLog({ dir })
      try {
        const chain = new Map<number, string[]>()
        for await (const { seq, cid } of log.chain(node)) chain.set(seq, [...(chain.get(seq) ?? []), cid.toString()])
        const last = log.head()?.seq ?? -1
        // One event per seq, no gaps: 0..last.
        expect(chain.size).toBe(last + 1)
        for (let seq = 0; seq <= last; seq++) expect(chain.get(seq), `seq ${seq}`).toHaveLength(1)
        // Every acknowledged event, of this round and every earlier one, is there with the CID it was acknowledged with.
        const missing: string[] = []
        for (const [seq, cid] of acknowledged) if (chain.get(seq)?.[0] !== cid) missing.push(`${seq} ${cid} (found ${chain.get(seq)})`)
        expect(missing, `round ${round}: acknowledged events lost`).toEqual([])

        const audit = await auditLog(log)
        expect(audit.problems).toEqual([])
        expect(audit.ok).toBe(true)
        expect(audit.forks).toBe(0)
        expect(audit.nodes).toBe(1)
        expect(audit.events).toBe(last + 1)
        expect(audit.unpinned).toBe(0)

        const maxAcked = Math.max(...run.acked.map((a) => a.seq))
        rows.push({
          round,
          killAfterMs: killAfter,
          acknowledged: run.acked.length,
          // Written and durable but killed before the child could report them (allowed: never acknowledged).
          unreported: last - maxAcked,
          events: audit.events,
          linkedBlocks: audit.linkedBlocks,
          childMs: Math.round(childMs),
          checkMs: Math.round(performance.now() - checkStarted),
        })
        durableSeq = last
      } finally {
        await log.close()
      }
    }

    const total = rows.reduce((sum, row) => sum + (row.acknowledged as number), 0)
    console.log(`crash test (seed ${seed}): ${total} acknowledged events over ${ROUNDS} kills, all present and audited`)
    console.table(rows)
    // Over ten rounds the batches with linked blocks were reached and their blocks survived too.
    expect(rows.at(-1)?.linkedBlocks).toBeGreaterThan(0)
  })
})

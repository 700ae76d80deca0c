import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { access, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { auditLog, initLog, openLog } from '@vsdb/log'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { dumpLevel, expectCliError, expectCliOk, lineReader, NYC_TAXI, vsdb } from './cli-helpers.ts'

// One data directory, two processes: while one holds the store open, every other command on that directory is
// refused with IN_USE naming the holder's pid, writes nothing, and the holder keeps working. Real Level on disk.
const HOLDER = fileURLToPath(new URL('../fixtures/hold-child.ts', import.meta.url))

interface Holder {
  child: ChildProcessWithoutNullStreams
  next(): Promise<string>
  pid: number
  node: string
  first: { seq: number; cid: string }
}

async function startHolder(dir: string): Promise<Holder> {
  const child = spawn(process.execPath, [HOLDER, dir], { stdio: ['pipe', 'pipe', 'pipe'] })
  const reader = lineReader(child)
  const ready = await reader.next()
  const m = /^ready (\d+) (\S+) (\d+) (\S+)$/.exec(ready)
  if (m === null) throw new Error(`holder printed ${JSON.stringify(ready)} instead of "ready PID NODE SEQ CID"`)
  return { child, next: reader.next, pid: Number(m[1]), node: m[2] as string, first: { seq: Number(m[3]), cid: m[4] as string } }
}

function exited(child: ChildProcessWithoutNullStreams): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode })
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
}

describe('two processes on one data directory', () => {
  let root: string
  const holders: ChildProcessWithoutNullStreams[] = []

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'vsdb-multi-'))
  })

  afterEach(() => {
    for (const child of holders.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })

  afterAll(async () => {
    if (root !== undefined) await rm(root, { recursive: true, force: true })
  })

  it('refuses status, ingest, audit and export with IN_USE naming the pid; the holder is unharmed', { timeout: 60_000 }, async () => {
    const dir = join(root, 'held')
    const init = await initLog({ dir })
    const genesis = init.head()
    await init.close()

    const holder = await startHolder(dir)
    holders.push(holder.child)
    expect(holder.node).toBe(genesis?.node)
    expect(holder.first.seq).toBe(1)
    // The pid the refusals name comes from here; the refused processes must not overwrite it.
    const owner = JSON.parse(await readFile(join(dir, 'owner.json'), 'utf8')) as { pid: number }
    expect(owner.pid).toBe(holder.pid)

    const car = join(root, 'held.car')
    const refused = await Promise.all([
      vsdb(dir, ['status']),
      vsdb(dir, ['ingest', NYC_TAXI]),
      vsdb(dir, ['audit']),
      vsdb(dir, ['export', '--car', car]),
    ])
    for (const run of refused) {
      const error = expectCliError(run, 'IN_USE')
      expect(error.message).toMatch(/\bin use\b/)
      expect(error.message).toContain(dir)
      expect(error.message).toContain(`pid ${holder.pid}`)
      expect(run.stderr).toContain(`pid ${holder.pid}`)
    }
    // The refused export left no file behind, finished or partial.
    await expect(access(car)).rejects.toThrow()
    await expect(access(`${car}.partial`)).rejects.toThrow()
    expect(JSON.parse(await readFile(join(dir, 'owner.json'), 'utf8'))).toMatchObject({ pid: holder.pid })

    // The holder still has the store and keeps appending after the refusals.
    holder.child.stdin.write('append\n')
    const second = /^(\d+) (\S+)$/.exec(await holder.next())
    expect(second?.[1]).toBe('2')
    holder.child.stdin.end()
    expect(await holder.next()).toBe('closed')
    expect(await exited(holder.child)).toEqual({ code: 0, signal: null })

    // Its data is intact and nothing of the refused ingest got in.
    const log = await openLog({ dir })
    try {
      const chain: string[] = []
      for await (const { seq, cid } of log.chain(holder.node)) chain.push(`${seq} ${cid}`)
      expect(chain).toEqual([`0 ${genesis?.cid}`, `1 ${holder.first.cid}`, `2 ${second?.[2]}`])
      const ingests: unknown[] = []
      for await (const entry of log.byType('ingest')) ingests.push(entry)
      expect(ingests).toEqual([])
      const audit = await auditLog(log)
      expect(audit.problems).toEqual([])
      expect(audit).toMatchObject({ ok: true, nodes: 1, events: 3, forks: 0 })
    } finally {
      await log.close()
    }

    // And once it is gone the directory is usable again.
    const status = expectCliOk(await vsdb(dir, ['status']))
    expect(status).toMatchObject({ node_count: 1, members: [{ node_id: holder.node, entities: 0 }] })
  })

  it('a holder killed with SIGKILL leaves no lock behind', { timeout: 60_000 }, async () => {
    const dir = join(root, 'killed')
    await (await initLog({ dir })).close()
    const holder = await startHolder(dir)
    holders.push(holder.child)
    expectCliError(await vsdb(dir, ['status']), 'IN_USE')
    holder.child.kill('SIGKILL')
    expect((await exited(holder.child)).signal).toBe('SIGKILL')

    // owner.json still names the dead holder; the kernel released Level's lock with the process.
    expect(JSON.parse(await readFile(join(dir, 'owner.json'), 'utf8'))).toMatchObject({ pid: holder.pid })
    const audit = expectCliOk(await vsdb(dir, ['audit']))
    expect(audit).toMatchObject({ ok: true, nodes: 1, events: 2, forks: 0 })
    const dump = await dumpLevel(dir)
    expect(dump.bySublevel.seq).toBe(2)
  })
})

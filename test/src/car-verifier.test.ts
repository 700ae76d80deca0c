import { spawnSync } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { type Block, cidFor, encodeBlock, exportCar, initLog, type Log, RAW } from '@vsdb/log'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// An independent verifier (Python stdlib + python3-cbor2 + python3-cryptography) that shares no code with
// the project: if our exports pass it, they are CARv1 + DAG-CBOR + Ed25519 as the specs say, not just as
// our own reader believes.
const PYTHON = '/usr/bin/python3'
const VERIFIER = fileURLToPath(new URL('../verifier/verify_car.py', import.meta.url))
const hasDeps = spawnSync(PYTHON, ['-c', 'import cbor2, cryptography'], { stdio: 'ignore' }).status === 0
if (!hasDeps) {
  console.warn(`car-verifier.test.ts skipped: ${PYTHON} lacks cbor2/cryptography (apt-get install -y python3-cbor2 python3-cryptography)`)
}

interface Verdict {
  ok: boolean
  blocks: number
  events: number
  roots: number
  error: string | null
  errors: string[]
  status: number | null
}

function verifyCar(file: string): Verdict {
  const run = spawnSync(PYTHON, [VERIFIER, file], { encoding: 'utf8', timeout: 60_000 })
  const line = run.stdout.trim().split('\n').pop() ?? ''
  let parsed: Omit<Verdict, 'status'>
  try {
    parsed = JSON.parse(line) as Omit<Verdict, 'status'>
  } catch {
    throw new Error(`verifier printed no JSON (exit ${run.status}): ${run.stdout}\n${run.stderr}`)
  }
  return { ...parsed, status: run.status }
}

function varint(n: number): number[] {
  const out: number[] = []
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80)
    n = Math.floor(n / 128)
  }
  out.push(n)
  return out
}

/** A CARv1 built by hand (not by the project's exporter), for forged inputs. */
function handCar(roots: Block['cid'][], blocks: Block[]): Buffer {
  const header = encodeBlock({ version: 1, roots }).bytes
  const parts: Uint8Array[] = [Uint8Array.from(varint(header.length)), header]
  for (const { cid, bytes } of blocks) {
    parts.push(Uint8Array.from(varint(cid.bytes.length + bytes.length)), cid.bytes, bytes)
  }
  return Buffer.concat(parts)
}

describe.skipIf(!hasDeps)('CAR export checked by an independent Python verifier', () => {
  let dir: string
  let log: Log
  let carFile: string
  let carBytes: Buffer
  let linked: Block
  let genesis: Block
  let middle: Block
  const EVENTS = 300
  let uniqueLinked = 0

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vsdb-car-verifier-'))
    log = await initLog({ dir: join(dir, 'node') })
    const shared = encodeBlock({
      entity: 'shared',
      dim: 2,
      obs: [
        [0.25, -1.5],
        [3, 4],
      ],
    })
    const pending = []
    for (let i = 0; i < EVENTS; i++) {
      if (i % 4 === 0) {
        // Every few ingests link the same block (written once); the rest link their own.
        const reuse = i % 40 === 0
        const dim = 1 + (i % 5)
        const count = 3
        const batch = reuse
          ? shared
          : encodeBlock({
              entity: `sensor-${i % 7}`,
              dim,
              ts: [1_700_000_000_000 + i, 1_700_000_000_001 + i, 1_700_000_000_002 + i],
              obs: Array.from({ length: count }, (_, k) => Array.from({ length: dim }, (_, d) => Math.sin(i + k + d) * 1e3)),
              meta: {
                note: 'ünïcödé ✓',
                bigNegative: -(2 ** 40) - i,
                flag: i % 8 === 0,
                none: null,
                raw: new Uint8Array([i & 0xff, 1, 2]),
              },
            })
        if (!reuse || i === 0) uniqueLinked++ // the shared block is first linked at i = 0
        if (linked === undefined && !reuse) linked = batch
        pending.push(
          log.append({
            type: 'ingest',
            payload: {
              entity: reuse ? 'shared' : `sensor-${i % 7}`,
              count: reuse ? 2 : count,
              dim: reuse ? 2 : dim,
              from: 1_700_000_000_000 + i,
              to: 1_700_000_000_002 + i,
              batch: batch.cid,
            },
            blocks: [batch],
          }),
        )
      } else {
        pending.push(
          log.append({
            type: 'trust',
            payload: { peer: log.node, score: (i % 10) / 10, uptime: 1, integrity: 0.999, consistency: i % 3 === 0 ? 0 : 0.5 },
          }),
        )
      }
    }
    const stored = await Promise.all(pending)
    const mid = stored[Math.floor(EVENTS / 2)]
    if (mid === undefined) throw new Error('no events appended')
    middle = { cid: mid.cid, bytes: mid.bytes }
    for await (const { seq, cid } of log.chain(log.node)) {
      if (seq === 0) genesis = { cid, bytes: await log.getBlock(cid) }
      break
    }

    carFile = join(dir, 'export.car')
    const exported = await exportCar(log)
    await pipeline(Readable.from(exported.out), createWriteStream(carFile))
    const counts = await exported.done
    expect(counts).toEqual({ events: EVENTS + 1, blocks: EVENTS + 1 + uniqueLinked, released: 0 })
    carBytes = await readFile(carFile)
  }, 120_000)

  afterAll(async () => {
    await log?.close()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('accepts the export: every hash, encoding, signature, chain link and payload link holds', () => {
    const verdict = verifyCar(carFile)
    expect(verdict.error).toBeNull()
    expect(verdict).toMatchObject({ ok: true, status: 0, roots: 1, events: EVENTS + 1, blocks: EVENTS + 1 + uniqueLinked })
  }, 60_000)

  it.each([
    ['a linked block', () => linked],
    ['the genesis event', () => genesis],
    ['an event in the middle of the chain', () => middle],
  ])(
    'rejects the export with one byte flipped inside %s, naming that block',
    async (_what, pick) => {
      const block = pick()
      const at = carBytes.indexOf(Buffer.from(block.bytes))
      expect(at).toBeGreaterThan(0)
      const copy = Buffer.from(carBytes)
      const offset = at + Math.floor(block.bytes.length / 2)
      copy[offset] = (copy[offset] as number) ^ 0x01
      const file = join(dir, `flipped-${block.cid}.car`)
      await writeFile(file, copy)
      const verdict = verifyCar(file)
      expect(verdict.ok).toBe(false)
      expect(verdict.status).not.toBe(0)
      expect(verdict.error).toContain(String(block.cid))
      expect(verdict.error).toMatch(/does not match its hash/)
    },
    60_000,
  )

  it('rejects a truncated export cleanly', async () => {
    for (const cut of [3, Math.floor(carBytes.length / 2), carBytes.length - 1]) {
      const file = join(dir, `truncated-${cut}.car`)
      await writeFile(file, carBytes.subarray(0, cut))
      const verdict = verifyCar(file)
      expect(verdict.ok).toBe(false)
      expect(verdict.status).toBe(1)
      expect(verdict.error).toMatch(/truncated/)
    }
  }, 60_000)

  it('rejects a re-hashed event whose signature no longer matches', async () => {
    const { event } = await log.getEvent(genesis.cid)
    const forged = encodeBlock({ ...event, ts: event.ts + 1 })
    const file = join(dir, 'forged.car')
    await writeFile(file, handCar([forged.cid], [forged]))
    const verdict = verifyCar(file)
    expect(verdict).toMatchObject({ ok: false, status: 1, blocks: 1, events: 1, roots: 1 })
    expect(verdict.error).toContain(String(forged.cid))
    expect(verdict.error).toMatch(/bad signature/)
  }, 60_000)

  it('rejects a chain with a missing middle event and a missing linked block', async () => {
    const file = join(dir, 'gappy.car')
    const events: Block[] = []
    for await (const { cid } of log.chain(log.node)) events.push({ cid, bytes: await log.getBlock(cid) })
    const head = events[events.length - 1] as Block
    // Keep every event but the middle one; keep no linked blocks at all.
    const kept = events.filter((e) => String(e.cid) !== String(middle.cid))
    await writeFile(file, handCar([head.cid], kept))
    const verdict = verifyCar(file)
    expect(verdict.ok).toBe(false)
    expect(verdict.errors.join('\n')).toContain(`prev ${middle.cid} is not in the CAR`)
    expect(verdict.errors.join('\n')).toContain(`block ${linked.cid} linked from event`)
  }, 60_000)

  it('rejects a non-canonical encoding even when the hash matches', async () => {
    // The genesis event with its map entries reversed: the same data, a valid hash, but not DAG-CBOR order.
    const bytes = genesis.bytes
    expect(bytes[0]).toBe(0xa8) // a map of 8 entries with a 1-byte head
    const { event } = await log.getEvent(genesis.cid)
    const entries = Object.entries(event).reverse()
    const parts: Uint8Array[] = [Uint8Array.of(0xa8)]
    for (const [key, value] of entries) {
      const wrapped = encodeBlock({ [key]: value }).bytes // a 1-entry map: 0xa1 + key + value
      parts.push(wrapped.subarray(1))
    }
    const shuffled = new Uint8Array(Buffer.concat(parts))
    expect(shuffled.length).toBe(bytes.length)
    const block = { cid: cidFor(shuffled), bytes: shuffled }
    const file = join(dir, 'noncanonical.car')
    await writeFile(file, handCar([block.cid], [block]))
    const verdict = verifyCar(file)
    expect(verdict.ok).toBe(false)
    expect(verdict.error).toContain(String(block.cid))
    expect(verdict.error).toMatch(/not canonical/)
  }, 60_000)
})

describe.skipIf(!hasDeps)('CAR export of a node whose raw batches were released by policy, checked by the Python verifier', () => {
  // The verifier checks that every block an event links is in the CAR, and knows nothing of retention. A node
  // under drop-after-seal has deleted its sealed raw batches on purpose, so its export lacks them: the verifier
  // rejects it, naming each released batch (and nothing else). That is right for a completeness check that
  // trusts no policy of ours; the project's own import and audit accept the absence only when a signed retention
  // event of the same node released those batches after sealing them.
  it('accepts the retention event type, and names exactly the released batches as absent', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vsdb-car-retention-'))
    try {
      const log = await initLog({ dir: join(dir, 'node'), raw: 'drop-after-seal' })
      const batches = [0, 1, 2].map((i) =>
        encodeBlock({ entity: 'e', ts: [i * 2, i * 2 + 1].map((t) => 1_700_000_000_000 + t), vectors: [[i], [i + 0.5]], meta: null }),
      )
      const ingests = await log.appendBatch(
        batches.map((batch, i) => ({
          type: 'ingest' as const,
          payload: { entity: 'e', count: 2, dim: 1, from: 1_700_000_000_000 + i * 2, to: 1_700_000_000_001 + i * 2, batch: batch.cid },
          blocks: [batch],
        })),
      )
      const data = { cid: cidFor(Uint8Array.of(1, 2, 3), RAW), bytes: Uint8Array.of(1, 2, 3) }
      await log.append({
        type: 'segment',
        payload: {
          entity: 'e',
          from: 1_700_000_000_000,
          to: 1_700_000_000_003,
          count: 4,
          through: 4,
          centroid: [0.75],
          min: [0],
          max: [1.5],
          anomaly: 0,
          alerts: [],
          regime: 'r0',
          codec: 'test',
          errorBound: [0],
          data: data.cid,
        },
        blocks: [data],
      })
      const keptFile = join(dir, 'policy-only.car')
      let exported = await exportCar(log)
      await pipeline(Readable.from(exported.out), createWriteStream(keptFile))
      expect((await exported.done).released).toBe(0)
      expect(verifyCar(keptFile)).toMatchObject({ ok: true, status: 0, error: null })

      const state = encodeBlock({ v: 1, note: 'resume state' })
      await log.append({
        type: 'retention',
        payload: {
          policy: 'drop-after-seal',
          released: [ingests[0]!.cid, ingests[1]!.cid],
          bytes: batches[0]!.bytes.length + batches[1]!.bytes.length,
          resume: { entity: 'e', through: 4, state: state.cid },
        },
        blocks: [state],
      })
      const releasedFile = join(dir, 'released.car')
      exported = await exportCar(log)
      await pipeline(Readable.from(exported.out), createWriteStream(releasedFile))
      expect((await exported.done).released).toBe(2)
      await log.close()
      const verdict = verifyCar(releasedFile)
      expect(verdict).toMatchObject({ ok: false, status: 1 })
      expect(verdict.errors).toEqual(
        [0, 1].map((i) => expect.stringContaining(`block ${batches[i]!.cid} linked from event ${ingests[i]!.cid}`)),
      )
      expect(verdict.errors.every((e) => e.endsWith('is not in the CAR'))).toBe(true)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 60_000)
})

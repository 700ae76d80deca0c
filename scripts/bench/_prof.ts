import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { initLog } from '@vsdb/log'
const mode = process.argv[2] ?? 'append'
const N = Number(process.argv[3] ?? 5000)
const dir = await mkdtemp(join(tmpdir(), 'vsdb-prof-'))
const t0 = Date.now()
const input = (i: number) => ({ type: 'privacy' as const, ts: t0 + i, payload: { enabled: i % 3 !== 0, epsilon: 0.05 + (i % 89) / 97, budget: 1.5 + (i % 1000) / 7 } })
const val = new Uint8Array(262).fill(7)
const key = (i: number) => { const k = new Uint8Array(34); k[0]=0x12; k[1]=0x20; new DataView(k.buffer).setUint32(2, i); k[10]=i%256; return k }
const pos = (i: number) => `12D3KooWNodeNodeNodeNodeNodeNodeNodeNodeNodeNodeNode!${i.toString(16).padStart(13,'0')}!bafyreigdmqpykrgxyaxtlafqpqhzrb7qy2rh75nldvfd4tucqmqqme5yje`
if (mode === 'append') {
  const log = await initLog({ dir })
  for (let i = 0; i < 300; i++) await log.append(input(i))
  const s = performance.now()
  for (let i = 0; i < N; i++) await log.append(input(i))
  const sec = (performance.now() - s) / 1000
  console.log(mode, (sec * 1e6 / N).toFixed(1), 'µs/append', (N / sec).toFixed(0), '/s')
  await log.close()
} else {
  const db = new ClassicLevel<string, Uint8Array>(dir, { valueEncoding: 'view' })
  await db.open()
  const blocks = db.sublevel<Uint8Array, Uint8Array>('blocks', { keyEncoding: 'view', valueEncoding: 'view' })
  const seqs = db.sublevel<string, string>('seq', { valueEncoding: 'utf8' })
  const types = db.sublevel<string, string>('type', { valueEncoding: 'utf8' })
  const helia = db.sublevel<string, Uint8Array>('helia', { valueEncoding: 'view' })
  const heads = db.sublevel<string, string>('heads', { valueEncoding: 'utf8' })
  const raw = new ClassicLevel<Uint8Array, Uint8Array>(dir + '-raw', { keyEncoding: 'view', valueEncoding: 'view' })
  await raw.open()
  const enc = new TextEncoder()
  const run = async (name: string, per: number, fn: (i: number) => Promise<unknown>) => {
    for (let i = 0; i < 300; i++) await fn(i + 1e6)
    const s = performance.now()
    for (let i = 0; i < N; i += per) await fn(i)
    const sec = (performance.now() - s) / 1000
    console.log(name.padEnd(60), (sec * 1e6 / N).toFixed(1).padStart(7), 'µs/event')
  }
  const ops6 = (i: number) => [
    { type: 'put', sublevel: blocks, key: key(i), value: val },
    { type: 'put', sublevel: seqs, key: pos(i), value: '' },
    { type: 'put', sublevel: types, key: 'privacy!' + pos(i), value: '' },
    { type: 'put', sublevel: helia, key: '/pin/' + pos(i).slice(70), value: val.subarray(0, 12) },
    { type: 'put', sublevel: helia, key: '/pinned-block/' + pos(i).slice(70), value: val.subarray(0, 45) },
  ]
  const rawOps = (i: number) => [
    { type: 'put' as const, key: Buffer.concat([enc.encode('!blocks!'), key(i)]), value: val },
    { type: 'put' as const, key: enc.encode('!seq!' + pos(i)), value: new Uint8Array(0) },
    { type: 'put' as const, key: enc.encode('!type!privacy!' + pos(i)), value: new Uint8Array(0) },
    { type: 'put' as const, key: enc.encode('!helia!/pin/' + pos(i).slice(70)), value: val.subarray(0, 12) },
    { type: 'put' as const, key: enc.encode('!helia!/pinned-block/' + pos(i).slice(70)), value: val.subarray(0, 45) },
  ]
  await run('raw put, awaited, 1/event', 1, (i) => raw.put(key(i), val))
  await run('raw batch 1 put, awaited, 1 event/batch', 1, (i) => raw.batch([{ type: 'put', key: key(i), value: val }]))
  await run('sublevel batch 5 puts+head, awaited, 1 event/batch', 1, (i) => db.batch([...ops6(i), { type: 'put', sublevel: heads, key: 'n', value: `${i} x` }] as never))
  await run('raw batch 5 prefixed puts+head, awaited, 1 event/batch', 1, (i) => raw.batch([...rawOps(i), { type: 'put', key: enc.encode('!heads!n'), value: enc.encode(`${i} x`) }]))
  await run('raw chained batch 5 prefixed puts, 1 event/batch', 1, (i) => { const b = raw.batch(); for (const o of rawOps(i)) b.put(o.key, o.value); return b.write() })
  const group = (f: (i: number) => unknown[]) => (i: number) => { const ops: unknown[] = []; for (let j = 0; j < 1000; j++) ops.push(...f(i + j)); return ops }
  await run('raw batch 1 put/event, 1000 events/batch', 1000, (i) => raw.batch(group((k) => [{ type: 'put', key: key(k), value: val }])(i) as never))
  await run('sublevel batch 5 puts/event, 1000 events/batch', 1000, (i) => db.batch(group(ops6)(i) as never))
  await run('raw batch 5 prefixed puts/event, 1000 events/batch', 1000, (i) => raw.batch(group(rawOps)(i) as never))
  await run('  (building the sublevel ops only)', 1000, async (i) => group(ops6)(i))
  await run('  (building the prefixed ops only)', 1000, async (i) => group(rawOps)(i))
  await db.close(); await raw.close()
  await rm(dir + '-raw', { recursive: true, force: true })
}
await rm(dir, { recursive: true, force: true })

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { initLog, auditLog, exportCar } from '@vsdb/log'
const mode = process.argv[2] ?? 'export'
const N = Number(process.argv[3] ?? 20000)
const dir = await mkdtemp(join(tmpdir(), 'vsdb-prof-'))
const t0 = Date.now()
const input = (i: number) => ({ type: 'privacy' as const, ts: t0 + i, payload: { enabled: i % 3 !== 0, epsilon: 0.05 + (i % 89) / 97, budget: 1.5 + (i % 1000) / 7 } })
const log = await initLog({ dir })
for (let s = 0; s < N; s += 1000) await log.appendBatch(Array.from({ length: 1000 }, (_, j) => input(s + j)))
const { Session } = await import('node:inspector/promises')
const session = new Session(); session.connect()
await session.post('Profiler.enable'); await session.post('Profiler.start')
const s = performance.now()
if (mode === 'export') {
  const car = await exportCar(log)
  const rootsAt = performance.now()
  let bytes = 0
  for await (const c of car.out) bytes += c.length
  await car.done
  console.log('roots', ((rootsAt - s) / 1000).toFixed(2), 's; total', ((performance.now() - s) / 1000).toFixed(2), 's', bytes)
} else {
  const cu = process.cpuUsage(); const r = await auditLog(log); const d = process.cpuUsage(cu); console.log("cpu user", d.user/1e6, "sys", d.system/1e6)
  console.log('audit', ((performance.now() - s) / 1000).toFixed(2), 's', r.events, r.ok)
}
const { profile } = await session.post('Profiler.stop')
const { writeFile, mkdir } = await import('node:fs/promises')
await mkdir('/tmp/prof2', { recursive: true })
await writeFile(`/tmp/prof2/${mode}.cpuprofile`, JSON.stringify(profile))
await log.close()
await rm(dir, { recursive: true, force: true })

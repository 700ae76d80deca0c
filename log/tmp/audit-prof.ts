import { rm } from 'node:fs/promises'
import { auditLog, exportCar, initLog } from '../src/index.ts'

await rm('/tmp/ap', { recursive: true, force: true })
const log = await initLog({ dir: '/tmp/ap' })
const payload = { peer: log.node, score: 0.5, uptime: 1, integrity: 1, consistency: 0.3 }
let t = performance.now()
for (let b = 0; b < 30; b++) await log.appendBatch(Array.from({ length: 1000 }, () => ({ type: 'trust' as const, payload })))
console.log('appendBatch/s', (30000 / ((performance.now() - t) / 1000)).toFixed(0))
t = performance.now()
for (let i = 0; i < 3000; i++) await log.append({ type: 'trust', payload })
console.log('awaited/s', (3000 / ((performance.now() - t) / 1000)).toFixed(0))
t = performance.now()
await Promise.all(Array.from({ length: 20000 }, () => log.append({ type: 'trust', payload })))
console.log('concurrent/s', (20000 / ((performance.now() - t) / 1000)).toFixed(0))
t = performance.now()
const r = await auditLog(log)
console.log('audit/s', (r.events / ((performance.now() - t) / 1000)).toFixed(0), r.ok)
t = performance.now()
const car = await exportCar(log)
for await (const _ of car.out);
const d = await car.done
console.log('export/s', (d.events / ((performance.now() - t) / 1000)).toFixed(0))
await log.close()

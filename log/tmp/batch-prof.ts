import { rm } from 'node:fs/promises'
import { initLog } from '../src/index.ts'

await rm('/tmp/bp', { recursive: true, force: true })
const log = await initLog({ dir: '/tmp/bp' })
const payload = { peer: log.node, score: 0.5, uptime: 1, integrity: 1, consistency: 0.3 }
const t = performance.now()
for (let b = 0; b < 30; b++) await log.appendBatch(Array.from({ length: 1000 }, () => ({ type: 'trust' as const, payload })))
console.log('appendBatch/s', (30000 / ((performance.now() - t) / 1000)).toFixed(0))
await log.close()

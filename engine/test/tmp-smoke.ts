import { readObservations } from '../src/observations/index.ts'
const path = process.argv[2] as string
const t0 = performance.now()
let n = 0, first, last
for await (const b of readObservations({ path, now: Date.parse('2030-01-01') })) { if (!first) first = b[0]; n += b.length; last = b[b.length - 1] }
const dt = performance.now() - t0
console.log(n, first, last, `${dt.toFixed(0)} ms`, `${Math.round(n / dt * 1000)} rows/s`)

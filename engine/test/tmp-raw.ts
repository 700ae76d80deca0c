import { createReadStream } from 'node:fs'
import { parse } from 'csv-parse'
const path = process.argv[2] as string
const mode = process.argv[3]
const t0 = performance.now()
let n = 0
const p = parse(mode === 'onrec' ? { on_record: () => { n++; return null } } : mode === 'relax' ? { relax_column_count: true, skip_empty_lines: true, bom: true, max_record_size: 1 << 20, on_record: () => { n++; return null } } : {})
createReadStream(path, { highWaterMark: 256 * 1024 }).pipe(p)
for await (const r of p) n++
const dt = performance.now() - t0
console.log(mode, n, `${dt.toFixed(0)} ms`)

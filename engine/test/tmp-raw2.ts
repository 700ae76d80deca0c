import { createReadStream } from 'node:fs'
import { parse } from 'csv-parse'
const path = process.argv[2] as string
const variants: Record<string, object> = {
  base: { relax_column_count: true, skip_empty_lines: true, bom: true, max_record_size: 1 << 20 },
  noquote: { relax_column_count: true, skip_empty_lines: true, bom: true, max_record_size: 1 << 20, quote: false },
  nomax: { relax_column_count: true, skip_empty_lines: true, bom: true },
  nl: { relax_column_count: true, skip_empty_lines: true, bom: true, max_record_size: 1 << 20, record_delimiter: '\n' },
}
for (const [name, v] of Object.entries(variants)) {
  for (let rep = 0; rep < 2; rep++) {
  const t0 = performance.now()
  let n = 0
  const p = parse({ ...v, on_record: () => { n++; return null } })
  createReadStream(path, { highWaterMark: 256 * 1024 }).pipe(p)
  for await (const r of p) n++
  console.log(name, n, `${(performance.now() - t0).toFixed(0)} ms`)
  }
}

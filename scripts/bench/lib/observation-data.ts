/**
 * Observation files for the ingest and replay benches, written as the node reads them (CSV: a `timestamp`
 * column, then the vector), one file per entity (the entity is the file name):
 *   - NAB: every series of `../shared/data/nab/` concatenated per entity until the wanted row count, each series
 *     shifted in time to start one step after the previous one ends (its own spacing kept, values as written in
 *     the source), each entity starting at a different series so that the entities differ;
 *   - synthetic: `dim`-d vectors at 10 Hz (mean-reverting walks plus daily-ish waves and noise, a level shift of
 *     every dimension now and then), values written with 3 decimals, from a seeded generator.
 */
import { createWriteStream } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const NAB_DIR = fileURLToPath(new URL('../../../../shared/data/nab/', import.meta.url))

export interface Dataset {
  name: string
  files: string[]
  entities: number
  rows: number
  dim: number
  bytes: number
}

interface Series {
  name: string
  ts: number[]
  values: string[]
}

/** Every NAB series (sorted by path) as epoch ms and the value cells as written. */
async function nabSeries(dir: string): Promise<Series[]> {
  const out: Series[] = []
  const folders = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name)
  for (const folder of folders.sort()) {
    for (const file of (await readdir(join(dir, folder))).filter((f) => f.endsWith('.csv')).sort()) {
      const lines = (await readFile(join(dir, folder, file), 'utf8')).split(/\r?\n/).filter((l) => l.length > 0)
      if (lines[0] !== 'timestamp,value') throw new Error(`${folder}/${file}: header is not "timestamp,value"`)
      const ts: number[] = []
      const values: string[] = []
      for (let i = 1; i < lines.length; i++) {
        const line = lines[i] as string
        const comma = line.indexOf(',')
        const t = Date.parse(`${line.slice(0, comma).replace(' ', 'T')}Z`)
        if (!Number.isFinite(t)) throw new Error(`${folder}/${file}:${i + 1}: bad timestamp`)
        ts.push(t)
        values.push(line.slice(comma + 1))
      }
      out.push({ name: `${folder}/${file}`, ts, values })
    }
  }
  if (out.length === 0) throw new Error(`no NAB CSV under ${dir}`)
  return out
}

/** `2000-01-01 00:05:00`: the NAB layout. */
function nabTime(ms: number): string {
  const iso = new Date(ms).toISOString()
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`
}

/** Writes lines to a file in large chunks. */
async function writeLines(path: string, header: string, rows: number, line: (i: number) => string): Promise<number> {
  const out = createWriteStream(path)
  const write = (s: string) => (out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r())))
  await write(`${header}\n`)
  let chunk: string[] = []
  for (let i = 0; i < rows; i++) {
    chunk.push(line(i))
    if (chunk.length === 8192) {
      await write(`${chunk.join('\n')}\n`)
      chunk = []
    }
  }
  if (chunk.length > 0) await write(`${chunk.join('\n')}\n`)
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())))
  return (await stat(path)).size
}

function split(rows: number, entities: number): number[] {
  return Array.from({ length: entities }, (_, e) => Math.floor(rows / entities) + (e < rows % entities ? 1 : 0))
}

/** `rows` NAB observations over `entities` entities (files `nab-0.csv`…), 1-d. */
export async function writeNabDataset(dir: string, rows: number, entities: number, nabDir = NAB_DIR): Promise<Dataset> {
  const series = await nabSeries(nabDir)
  const files: string[] = []
  let bytes = 0
  const start = Date.UTC(2000, 0, 1)
  for (const [e, count] of split(rows, entities).entries()) {
    // Row i of this entity: which series and row, and the time shift of that series.
    const ts = new Float64Array(count)
    const at: string[] = new Array(count)
    let cursor = start
    let k = Math.floor((e * series.length) / entities)
    let i = 0
    while (i < count) {
      const s = series[k % series.length] as Series
      const shift = cursor - (s.ts[0] as number)
      for (let j = 0; j < s.ts.length && i < count; j++, i++) {
        ts[i] = (s.ts[j] as number) + shift
        at[i] = s.values[j] as string
      }
      const step = (s.ts[1] as number) - (s.ts[0] as number)
      cursor = (s.ts[s.ts.length - 1] as number) + shift + step
      k++
    }
    const file = join(dir, `nab-${e}.csv`)
    bytes += await writeLines(file, 'timestamp,value', count, (r) => `${nabTime(ts[r] as number)},${at[r]}`)
    files.push(file)
  }
  return { name: `NAB 1-d, ${entities} entities`, files, entities, rows, dim: 1, bytes }
}

/** mulberry32: a small seeded generator. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** `rows` synthetic `dim`-d observations at 10 Hz over `entities` entities (files `synth-0.csv`…). */
export async function writeSyntheticDataset(dir: string, rows: number, entities: number, dim: number, seed = 1): Promise<Dataset> {
  const files: string[] = []
  let bytes = 0
  const start = Date.UTC(2024, 0, 1)
  const header = ['timestamp', ...Array.from({ length: dim }, (_, d) => `d${d}`)].join(',')
  for (const [e, count] of split(rows, entities).entries()) {
    const rand = seeded(seed * 1000 + e)
    const level = new Array<number>(dim).fill(0)
    const shift = Array.from({ length: dim }, () => 10 + rand() * 90)
    const period = Array.from({ length: dim }, () => 600 + Math.floor(rand() * 6000))
    const amplitude = Array.from({ length: dim }, () => 1 + rand() * 9)
    const file = join(dir, `synth-${e}.csv`)
    bytes += await writeLines(file, header, count, (i) => {
      if (i > 0 && i % 20_000 === 0) for (let d = 0; d < dim; d++) shift[d] = (shift[d] as number) + (rand() - 0.5) * 40
      const cells: string[] = [new Date(start + i * 100).toISOString()]
      for (let d = 0; d < dim; d++) {
        level[d] = (level[d] as number) * 0.995 + (rand() - 0.5) * 0.5
        const x =
          (shift[d] as number) + (level[d] as number) + (amplitude[d] as number) * Math.sin((2 * Math.PI * i) / (period[d] as number))
        cells.push(x.toFixed(3))
      }
      return cells.join(',')
    })
    files.push(file)
  }
  return { name: `synthetic ${dim}-d, ${entities} entities`, files, entities, rows, dim, bytes }
}

/** The two cases the ingest and replay benches measure: NAB series per entity, and generated vectors. */
export function datasetMakers(sizes: { rows: number; entities: number; dim: number }): [string, (dir: string) => Promise<Dataset>][] {
  return [
    ['nab', (dir) => writeNabDataset(dir, sizes.rows, sizes.entities)],
    [`synthetic-${sizes.dim}d`, (dir) => writeSyntheticDataset(dir, sizes.rows, sizes.entities, sizes.dim)],
  ]
}

/**
 * Bench dispatcher: `npm run bench -- NAME [args…]` runs `scripts/bench/NAME.ts`, whose `main(args)` prints a
 * table and then one JSON line.
 */
import { readdir } from 'node:fs/promises'

interface Bench {
  main(args: string[]): Promise<void>
}

const here = new URL('./', import.meta.url)
const available = (await readdir(here))
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.startsWith('_') && f !== 'run.ts')
  .map((f) => f.slice(0, -3))
const [name, ...args] = process.argv.slice(2)

if (name === undefined || !available.includes(name)) {
  const what = name === undefined ? 'no bench named' : `unknown bench "${name}"`
  console.error(`${what}; usage: npm run bench -- NAME [--quick]   (benches: ${available.join(', ')})`)
  process.exit(2)
}

const bench = (await import(new URL(`./${name}.ts`, here).href)) as Bench
await bench.main(args)

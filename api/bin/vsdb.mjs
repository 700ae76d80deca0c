#!/usr/bin/env -S node --max-semi-space-size=16
// A 16 MiB young generation: an ingest's garbage dies young, and V8's default lets that space grow to 64 MiB,
// which shows as resident memory for nothing (1M observations: ~30 MiB less peak RSS, no slower).
//
// Plain JavaScript, so that Node's compile cache is on before any TypeScript loads: a warm start then skips type
// stripping and compiling (`vsdb --help` ~0.8 s → ~0.35 s, and ~26 MB less resident memory for the process's
// whole life). The cache lives in this checkout's node_modules/.cache, owned by whoever installed it (not a
// directory shared in /tmp); NODE_DISABLE_COMPILE_CACHE=1 turns it off.
import module from 'node:module'
import { fileURLToPath } from 'node:url'

if (Number(process.versions.node.split('.')[0]) < 24) {
  console.error(`vsdb needs Node.js 24, not ${process.version}: run it as \`npx vsdb\` or \`npm run vsdb --\` (the project's own Node 24)`)
  process.exit(1)
}
module.enableCompileCache(fileURLToPath(new URL('../../node_modules/.cache/node-compile-cache', import.meta.url)))
const { main } = await import('../src/cli/main.ts')
process.exitCode = await main(process.argv)

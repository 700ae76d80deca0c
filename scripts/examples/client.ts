// A user's app talking to a running node with the typed client: ingest a batch, watch segments seal, query.
//
//   npx vsdb serve &                                   # or npm start
//   npx vsdb token create --scope write                # prints a token once
//   VSDB_URL=http://127.0.0.1:7300 VSDB_TOKEN=… node scripts/examples/client.ts
import { createClient } from '@vsdb/api'

const url = process.env.VSDB_URL ?? 'http://127.0.0.1:7300'
const token = process.env.VSDB_TOKEN
if (token === undefined) {
  console.error('set VSDB_TOKEN to a write token (npx vsdb token create --scope write)')
  process.exit(2)
}

const vsdb = createClient({ url, token })
const entity = process.env.VSDB_ENTITY ?? `example-${Date.now()}`

// Segments of this entity, pushed over the WebSocket as the node seals them.
const sealed: string[] = []
const subscription = vsdb.onSegment.subscribe({ entity }, { onData: (segment) => sealed.push(segment.cid) })
await new Promise((resolve) => setTimeout(resolve, 200))

// One API call = one atomic batch: 1,000 observations of a 4-d vector, one per second, with a burst in the middle.
const start = Date.now() - 3_600_000
const observations = Array.from({ length: 1000 }, (_, i) => ({
  ts: start + i * 1000,
  vector: [Math.sin(i / 30), Math.cos(i / 30), i % 60 === 0 ? 5 : 0, i > 500 && i < 520 ? 8 : 0.1],
}))
const summary = await vsdb.ingest.mutate({ entity, observations })
console.log(`ingested ${summary.rows} observations: ${summary.events} events, ${summary.segments} segments sealed`)

const segments = await vsdb.segments.query({ entity })
const first = segments[0]
if (first === undefined) throw new Error('no segment sealed')
const hits = await vsdb.query.query({ like: first.cid, k: 5 })
console.log(`segments like ${first.cid}:`)
for (const hit of hits) console.log(`  ${hit.distance.toFixed(4)}  ${hit.entity}  anomaly ${hit.anomaly.toFixed(3)}  ${hit.cid}`)

await new Promise((resolve) => setTimeout(resolve, 200))
subscription.unsubscribe()
console.log(JSON.stringify({ ok: true, entity, rows: summary.rows, segments: segments.length, pushed: sealed.length, hits: hits.length }))
await vsdb.close()

import { octetInputParser } from '@trpc/server/http'
import { clusterStatus, type LiveAlert, type SegmentRecord, type VsdbNode } from '@vsdb/engine'
import { auditLog, exportCar, importCar, RETENTION_POLICIES, VsdbError } from '@vsdb/log'
import { z } from 'zod'
import { SCOPES } from '../tokens/index.ts'
import { nodeFeed } from './feed.ts'
import { anomalyFeedInput, cidString, ingestInput, queryInput, readInput, segmentFeedInput, segmentsInput } from './inputs.ts'
import { decodeObservationFrame, frameBase64Input } from './observation-frame-input.ts'
import { adminProcedure, readProcedure, router, writeProcedure } from './trpc.ts'

const tokens = router({
  create: adminProcedure
    .input(z.strictObject({ scope: z.enum(SCOPES), label: z.string().max(128).default('') }))
    .mutation(({ ctx, input }) => ctx.tokens.create(input.scope, input.label)),
  list: adminProcedure.query(({ ctx }) => ctx.tokens.list()),
  revoke: adminProcedure.input(z.strictObject({ id: z.string().min(1).max(64) })).mutation(({ ctx, input }) => ctx.tokens.revoke(input.id)),
})

/** Everything the engine does, with zod inputs; each procedure asks for the scope it needs (read ⊂ write ⊂ admin). */
export const appRouter = router({
  status: readProcedure.query(({ ctx }) => clusterStatus(ctx.node)),
  entities: readProcedure.query(({ ctx }) => ctx.node.views.entities()),
  segments: readProcedure.input(segmentsInput).query(({ ctx, input }) => ctx.node.segments(input)),
  segment: readProcedure.input(z.strictObject({ cid: cidString })).query(({ ctx, input }) => {
    const segment = ctx.node.views.segment(input.cid)
    if (segment === undefined) throw notFound('cid', `no segment ${input.cid}`)
    return segment
  }),
  alerts: readProcedure.input(segmentsInput).query(({ ctx, input }) => ctx.node.views.alerts(input)),
  /** Alerts of the observations not sealed into a segment yet (they join a segment's `alerts` when it seals). */
  openAlerts: readProcedure
    .input(z.strictObject({ entity: z.string().min(1).max(256).optional() }).default({}))
    .query(({ ctx, input }) => ctx.node.openAlerts(input.entity)),
  query: readProcedure.input(queryInput).query(({ ctx, input }) => ctx.node.query(input)),
  read: readProcedure.input(readInput).query(async ({ ctx, input }) => {
    const rows = await ctx.node.read(input)
    return input.limit === undefined ? rows : rows.slice(0, input.limit)
  }),
  digest: readProcedure.query(({ ctx }) => ctx.node.digest()),
  counts: readProcedure.query(({ ctx }) => ctx.node.views.counts()),
  ingest: writeProcedure.input(ingestInput).mutation(({ ctx, input }) => ctx.node.ingestRows(input.observations, { entity: input.entity })),
  /** `ingest` with the batch as one binary frame (`wire/observation-frame.ts`): what the typed client sends over HTTP. */
  ingestFrame: writeProcedure
    .input(octetInputParser)
    .mutation(async ({ ctx, input }) => ingestFrameBytes(ctx.node, await readStream(input as AsyncIterable<Uint8Array>))),
  /**
   * `ingestFrame` for transports that carry text only (tRPC's WebSocket messages are JSON): the frame in base64,
   * still a fraction of the JSON rows' bytes and parsing.
   */
  ingestFrameBase64: writeProcedure
    .input(frameBase64Input)
    .mutation(({ ctx, input }) => ingestFrameBytes(ctx.node, Buffer.from(input, 'base64'))),
  /** Rebuilds the projections from the log alone, beside the live ones, and returns that digest to compare. */
  replayDigest: adminProcedure.query(({ ctx }) => ctx.node.replay()),
  audit: adminProcedure.query(({ ctx }) => auditLog(ctx.node.log)),
  /** The CAR of every block, rooted at the heads, as a stream of chunks (base64). `GET /v1/export` serves the bytes as they are. */
  export: adminProcedure.query(async function* ({ ctx }) {
    const car = await exportCar(ctx.node.log)
    for await (const chunk of car.out) yield Buffer.from(chunk).toString('base64')
    await car.done
  }),
  import: adminProcedure.input(octetInputParser).mutation(async ({ ctx, input }) => {
    const result = await importCar(ctx.node.log, input as AsyncIterable<Uint8Array>)
    await ctx.node.refresh()
    return result
  }),
  tokens,
  /** This node's raw retention policy and what it released by policy. */
  retention: readProcedure.query(({ ctx }) => ctx.node.retention()),
  /** Sets the raw retention policy (a `retention` event when it changes; drop-after-seal releases what is sealed). */
  setRetention: adminProcedure
    .input(z.strictObject({ policy: z.enum(RETENTION_POLICIES) }))
    .mutation(({ ctx, input }) => ctx.node.setRetention(input.policy)),
  /** Segments as they are sealed (or arrive from elsewhere), optionally of one entity and above an anomaly score. */
  onSegment: readProcedure.input(segmentFeedInput).subscription(({ ctx, input, signal }) =>
    nodeFeed<SegmentRecord>(signal, ctx.stillAllowed, (push) =>
      ctx.node.onEvent((_event, segment) => {
        if (segment !== undefined && segment.anomaly >= input.minAnomaly && (input.entity === undefined || segment.entity === input.entity))
          push(segment)
      }),
    ),
  ),
  /**
   * Each observation scoring at or above the threshold, as soon as the ingest that scored it is in (`segment`
   * null while its segment is open), or with its segment when that arrives from elsewhere. Told once each.
   */
  onAnomaly: readProcedure.input(anomalyFeedInput).subscription(({ ctx, input, signal }) =>
    nodeFeed<LiveAlert>(signal, ctx.stillAllowed, (push) =>
      ctx.node.onAlert((alert) => {
        if (alert.score >= input.threshold && (input.entity === undefined || alert.entity === input.entity)) push(alert)
      }),
    ),
  ),
})

export type AppRouter = typeof appRouter

function notFound(field: string, message: string): VsdbError {
  return new VsdbError('NOT_FOUND', message, { field })
}

async function readStream(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  for await (const chunk of stream) chunks.push(chunk)
  // A body read whole comes as one chunk: it is taken as it is, not copied.
  return chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks)
}

/** An observation frame's rows, checked as the frame's (see observation-frame-input.ts), ingested as JSON rows are. */
function ingestFrameBytes(node: VsdbNode, bytes: Uint8Array) {
  const { columns, entity } = decodeObservationFrame(bytes)
  return node.ingestColumns(columns, { entity })
}

import { type observationRowSchema, parseTimestamp } from '@vsdb/engine'
import { CID } from 'multiformats/cid'
import { z } from 'zod'

export const cidString = z
  .string()
  .min(1)
  .max(256)
  .refine(
    (value) => {
      try {
        CID.parse(value)
        return true
      } catch {
        return false
      }
    },
    { message: 'not a CID' },
  )

/** Epoch milliseconds, or any timestamp the ingest readers accept (ISO 8601, NAB's `YYYY-MM-DD hh:mm:ss`). */
export const timeInput = z.union([z.number().int().safe(), z.string().max(64)]).transform((value, ctx) => {
  if (typeof value === 'number') return value
  const ms = parseTimestamp(value)
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is not a timestamp (epoch ms or ISO 8601)` })
    return z.NEVER
  }
  return ms
})

export const entityId = z.string().min(1).max(256)

export const filtersInput = z.strictObject({
  entity: entityId.optional(),
  from: timeInput.optional(),
  to: timeInput.optional(),
  minAnomaly: z.number().min(0).max(1).optional(),
  regime: z.string().max(64).optional(),
})

export const queryInput = filtersInput
  .extend({
    vector: z.array(z.number()).min(1).max(65_536).optional(),
    like: cidString.optional(),
    k: z.number().int().min(1).max(10_000).default(10),
  })
  .refine((q) => (q.vector === undefined) !== (q.like === undefined), {
    message: 'give a query vector or a segment CID to look like, not both',
    path: ['vector'],
  })

export const segmentsInput = filtersInput.extend({ limit: z.number().int().min(1).max(100_000).default(1_000) }).default({ limit: 1_000 })

export const readInput = z.strictObject({
  entity: entityId,
  from: timeInput.optional(),
  to: timeInput.optional(),
  limit: z.number().int().min(1).max(10_000_000).optional(),
})

/** An observation as the API takes it (the typed client's input type). */
export type ObservationInput = z.input<typeof observationRowSchema>

/**
 * One API ingest batch: at most 100,000 observations. Each row is checked once, by the engine, exactly as a
 * JSONL line is (its errors name the row and field: `observations.3.vector.1`); checking it here as well would
 * double the cost of a batch for nothing.
 */
export const ingestInput = z.strictObject({
  entity: entityId.optional(),
  observations: z
    .array(z.custom<ObservationInput>(() => true))
    .min(1)
    .max(100_000),
})

export const segmentFeedInput = z
  .strictObject({ entity: entityId.optional(), minAnomaly: z.number().min(0).max(1).default(0) })
  .default({ minAnomaly: 0 })

export const anomalyFeedInput = z.strictObject({ entity: entityId.optional(), threshold: z.number().min(0).max(1).default(0.5) }).default({
  threshold: 0.5,
})

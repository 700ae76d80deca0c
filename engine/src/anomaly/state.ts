/** The anomaly scorer's serialised state: plain JSON, validated before a scorer is rebuilt from it. */
import { z } from 'zod'

const finite = z.number().finite()
const count = z.number().int().nonnegative()

export const anomalyStateSchema = z.strictObject({
  v: z.literal(1),
  /** Every setting, so a restored scorer behaves exactly as the one that was saved. */
  options: z.record(z.string(), finite),
  /** The vector dimension (null before the first observation). */
  dimension: z.number().int().positive().nullable(),
  /** Observations seen. */
  count,
  /** Index of the last alert (null: none yet). */
  lastAlert: count.nullable(),
  /** Index of the last change point (null: none yet). */
  lastChange: count.nullable(),
  /** Per-dimension state, packed: `dimension × (12 + 2 × dailySlots)` numbers. */
  dims: z.array(finite),
})

export type AnomalyState = z.infer<typeof anomalyStateSchema>

export function parseAnomalyState(state: unknown): AnomalyState {
  const r = anomalyStateSchema.safeParse(state)
  if (!r.success) {
    const issue = r.error.issues[0]
    const where = issue === undefined || issue.path.length === 0 ? 'state' : issue.path.join('.')
    throw new Error(`anomaly state: "${where}": ${issue?.message ?? 'invalid'}`)
  }
  return r.data
}

import type { Log } from '@vsdb/log'

export interface EntitySummary {
  entity: string
  dim: number
  observations: number
  batches: number
  from: number
  to: number
}

/**
 * Entities as the log knows them, folded from `ingest` events. A plain scan for now: the projections
 * package replaces it with an indexed view.
 */
export async function entitySummaries(log: Log): Promise<Map<string, EntitySummary>> {
  const entities = new Map<string, EntitySummary>()
  for await (const { cid } of log.byType('ingest')) {
    const { event } = await log.getEvent(cid)
    if (event.type !== 'ingest') continue
    const p = event.payload as { entity: string; dim: number; count: number; from: number; to: number }
    const known = entities.get(p.entity)
    if (known === undefined) {
      entities.set(p.entity, { entity: p.entity, dim: p.dim, observations: p.count, batches: 1, from: p.from, to: p.to })
    } else {
      known.observations += p.count
      known.batches++
      known.from = Math.min(known.from, p.from)
      known.to = Math.max(known.to, p.to)
    }
  }
  return entities
}

export async function entityDimensions(log: Log): Promise<Map<string, number>> {
  const dims = new Map<string, number>()
  for (const [entity, summary] of await entitySummaries(log)) dims.set(entity, summary.dim)
  return dims
}

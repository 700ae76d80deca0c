import { GatewayError } from './gateway-error.ts'

/** How much of the DAG under the CID a CAR holds. No UnixFS here, so an `entity` is its root block. */
export type DagScope = 'all' | 'entity' | 'block'

export interface CarScope {
  scope: DagScope
  /** `from:to` as asked (validated); it only narrows byte-shaped entities, and a block is sent whole. */
  entityBytes: string | null
}

const SCOPES: readonly DagScope[] = ['all', 'entity', 'block']
const ENTITY_BYTES = /^-?\d+:(-?\d+|\*)$/

/** `dag-scope` (default `all`) and `entity-bytes` (which implies `entity`) of a CAR request. */
export function parseCarScope(query: URLSearchParams): CarScope {
  const asked = query.get('dag-scope')
  if (asked !== null && !SCOPES.includes(asked as DagScope)) {
    throw new GatewayError(400, 'INVALID_INPUT', `dag-scope=${asked} is not valid: dag-scope=all, entity or block`, { field: 'dag-scope' })
  }
  const entityBytes = query.get('entity-bytes')
  if (entityBytes === null) return { scope: (asked as DagScope | null) ?? 'all', entityBytes: null }
  if (!ENTITY_BYTES.test(entityBytes)) {
    throw new GatewayError(400, 'INVALID_INPUT', `entity-bytes=${entityBytes} is not valid: from:to, integers, to may be *`, {
      field: 'entity-bytes',
    })
  }
  if (asked !== null && asked !== 'entity') {
    throw new GatewayError(400, 'INVALID_INPUT', `entity-bytes implies dag-scope=entity, not dag-scope=${asked}`, { field: 'dag-scope' })
  }
  return { scope: 'entity', entityBytes }
}

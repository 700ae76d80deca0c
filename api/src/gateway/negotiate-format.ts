import { parseAccept } from './accept-header.ts'
import { GatewayError } from './gateway-error.ts'

export const RAW_MEDIA_TYPE = 'application/vnd.ipld.raw'
export const CAR_MEDIA_TYPE = 'application/vnd.ipld.car'

/** The one CAR this gateway writes: version 1, depth-first; duplicates as asked (none unless `dups=y`). */
export interface CarVariant {
  version: 1
  order: 'dfs'
  dups: boolean
}

export type ResponseFormat = { kind: 'raw' } | { kind: 'car'; car: CarVariant }

type CarParams = Partial<Record<'version' | 'order' | 'dups', string>>

const CAR_QUERY = { version: 'car-version', order: 'car-order', dups: 'car-dups' } as const

/** Why a CAR variant cannot be served, or null when it can. */
function carProblem(params: CarParams): string | null {
  const { version, order, dups } = params
  if (version !== undefined && version !== '1') return `CAR version ${version} is not served here (only version=1)`
  if (order !== undefined && order !== '' && order !== 'dfs' && order !== 'unk') {
    return `CAR order ${order} is not served here (only order=dfs)`
  }
  if (dups !== undefined && dups !== 'y' && dups !== 'n') return `CAR dups=${dups} is not valid (dups=y or dups=n)`
  return null
}

/** `car-version`, `car-order`, `car-dups` in the URL take precedence over the Accept parameters; a value this gateway cannot serve is a bad request. */
function queryCarParams(query: URLSearchParams): CarParams {
  const params: CarParams = {}
  for (const [name, field] of Object.entries(CAR_QUERY) as [keyof CarParams, string][]) {
    const value = query.get(field)
    if (value === null) continue
    const problem = carProblem({ [name]: value })
    if (problem !== null) throw new GatewayError(400, 'INVALID_INPUT', `${field}: ${problem}`, { field })
    params[name] = value
  }
  return params
}

function carVariant(params: CarParams): CarVariant {
  return { version: 1, order: 'dfs', dups: params.dups === 'y' }
}

function acceptParams(params: Map<string, string>): CarParams {
  return { version: params.get('version'), order: params.get('order'), dups: params.get('dups') }
}

/**
 * The response type: `?format=raw|car` first (the spec lets it win), else the most preferred Accept entry this
 * gateway can serve. Only verifiable types are served: a missing Accept is a bad request, and an Accept that
 * names nothing servable (wildcards included) is not acceptable (406).
 */
export function negotiateFormat(accept: string | undefined, query: URLSearchParams): ResponseFormat {
  const fromQuery = queryCarParams(query)
  const ranges = parseAccept(accept ?? '')
  const format = query.get('format')
  if (format !== null && format !== 'raw' && format !== 'car') {
    throw new GatewayError(400, 'INVALID_INPUT', `format=${format} is not served here: ask for format=raw or format=car`, {
      field: 'format',
    })
  }
  if (format === 'raw') return { kind: 'raw' }
  const problems: string[] = []
  if (format === 'car') {
    const offered = ranges.filter((range) => range.type === CAR_MEDIA_TYPE).map((range) => acceptParams(range.params))
    for (const params of offered.length === 0 ? [{}] : offered) {
      const merged = { ...params, ...fromQuery }
      const problem = carProblem(merged)
      if (problem === null) return { kind: 'car', car: carVariant(merged) }
      problems.push(problem)
    }
  } else {
    for (const range of ranges) {
      if (range.type === RAW_MEDIA_TYPE) return { kind: 'raw' }
      if (range.type !== CAR_MEDIA_TYPE) continue
      const merged = { ...acceptParams(range.params), ...fromQuery }
      const problem = carProblem(merged)
      if (problem === null) return { kind: 'car', car: carVariant(merged) }
      problems.push(problem)
    }
    if (accept === undefined || accept.trim() === '') {
      throw new GatewayError(
        400,
        'INVALID_INPUT',
        `no response type asked for: send Accept: ${RAW_MEDIA_TYPE} or ${CAR_MEDIA_TYPE} (or ?format=raw|car); this gateway serves only verifiable responses`,
        { field: 'Accept' },
      )
    }
  }
  const why = problems.length > 0 ? `: ${problems.join('; ')}` : ''
  throw new GatewayError(
    406,
    'NOT_ACCEPTABLE',
    `cannot answer Accept: ${accept ?? ''}${why}. This gateway serves ${RAW_MEDIA_TYPE} and ${CAR_MEDIA_TYPE}; version=1; order=dfs; dups=n|y`,
    { field: 'Accept' },
  )
}

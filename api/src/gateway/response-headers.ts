import type { CID } from 'multiformats/cid'
import type { CarScope } from './dag-scope.ts'
import { CAR_MEDIA_TYPE, type CarVariant, RAW_MEDIA_TYPE } from './negotiate-format.ts'

/** What is served: one block, or a CAR of some scope of the DAG under the CID. */
export type Served = { kind: 'raw'; length: number } | { kind: 'car'; car: CarVariant; scope: CarScope }

/** Immutable content: a year (the gateway specs' 29030400 s), never revalidated. */
const IMMUTABLE = 'public, max-age=29030400, immutable'

/** A strong Etag per CID and response variant: `"<cid>.raw"`, `"<cid>.car"`, with the CAR's non-default choices appended. */
export function etagOf(cid: CID, served: Served): string {
  if (served.kind === 'raw') return `"${cid}.raw"`
  const parts = [cid.toString()]
  if (served.scope.scope !== 'all') parts.push(`dag-scope-${served.scope.scope}`)
  if (served.scope.entityBytes !== null) parts.push(`entity-bytes-${served.scope.entityBytes}`)
  if (served.car.dups) parts.push('dups-y')
  return `"${parts.join('.')}.car"`
}

export function contentTypeOf(served: Served): string {
  if (served.kind === 'raw') return RAW_MEDIA_TYPE
  return `${CAR_MEDIA_TYPE}; version=${served.car.version}; order=${served.car.order}; dups=${served.car.dups ? 'y' : 'n'}`
}

/** The URL of exactly this variant, for caches, when the request chose it by Accept rather than by `format`. */
function contentLocation(cidText: string, query: URLSearchParams, served: Served): string {
  const params = new URLSearchParams(query)
  params.set('format', served.kind)
  if (served.kind === 'car') {
    params.set('car-version', String(served.car.version))
    params.set('car-order', served.car.order)
    params.set('car-dups', served.car.dups ? 'y' : 'n')
  }
  return `/ipfs/${encodeURIComponent(cidText)}?${params}`
}

/** Headers of a successful (or 304) response: type, length for a block, caching, Etag, download as a file. */
export function responseHeaders(cid: CID, cidText: string, query: URLSearchParams, served: Served): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': contentTypeOf(served),
    'content-disposition': `attachment; filename="${cid}.${served.kind === 'raw' ? 'bin' : 'car'}"`,
    'x-content-type-options': 'nosniff',
    'cache-control': IMMUTABLE,
    etag: etagOf(cid, served),
    vary: 'Accept',
    'x-ipfs-path': `/ipfs/${cidText}`,
    'x-ipfs-roots': cid.toString(),
  }
  if (served.kind === 'raw') headers['content-length'] = String(served.length)
  if (!query.has('format')) headers['content-location'] = contentLocation(cidText, query, served)
  return headers
}

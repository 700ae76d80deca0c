import { CID } from 'multiformats/cid'
import { GatewayError } from './gateway-error.ts'

export interface GatewayRequest {
  cid: CID
  /** The CID as the request wrote it (error messages and headers name it so). */
  cidText: string
  query: URLSearchParams
}

const PREFIX = '/ipfs/'

/**
 * `/ipfs/{cid}[?params]` → the CID and the query. The URL is split by hand rather than resolved against a
 * base, so `//host/…` cannot turn into another origin. Anything after the CID is refused: this gateway serves
 * blocks and whole DAGs by CID, it does not walk IPLD paths.
 */
export function parseGatewayRequest(url: string): GatewayRequest {
  const mark = url.indexOf('?')
  const path = mark === -1 ? url : url.slice(0, mark)
  const query = new URLSearchParams(mark === -1 ? '' : url.slice(mark + 1))
  if (!path.startsWith(PREFIX)) {
    throw new GatewayError(400, 'INVALID_INPUT', `the gateway serves ${PREFIX}{cid}, not ${path}`, { field: 'path' })
  }
  const rest = path.slice(PREFIX.length)
  const slash = rest.indexOf('/')
  const segment = slash === -1 ? rest : rest.slice(0, slash)
  const after = slash === -1 ? '' : rest.slice(slash)
  const cidText = decodeSegment(segment)
  if (cidText === '') throw new GatewayError(400, 'INVALID_INPUT', `no CID after ${PREFIX}`, { field: 'cid' })
  let cid: CID
  try {
    cid = CID.parse(cidText)
  } catch (err) {
    throw new GatewayError(400, 'INVALID_INPUT', `"${cidText}" is not a valid CID: ${(err as Error).message}`, {
      cid: cidText,
      field: 'cid',
    })
  }
  if (after !== '' && after !== '/') {
    throw new GatewayError(
      400,
      'INVALID_INPUT',
      `paths inside a DAG are not supported: ask for ${PREFIX}${cidText} itself, not ${PREFIX}${cidText}${after}`,
      { cid: cidText, field: 'path' },
    )
  }
  return { cid, cidText, query }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    throw new GatewayError(400, 'INVALID_INPUT', `"${segment}" is not a valid CID: bad percent-encoding`, { cid: segment, field: 'cid' })
  }
}

import type { IncomingMessage, ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { isVsdbError, type Log } from '@vsdb/log'
import type { CID } from 'multiformats/cid'
import { blockLinks } from './block-links.ts'
import { readBlock } from './block-source.ts'
import { carChunks } from './car-stream.ts'
import { clientHasEtag, onlyIfCached } from './conditional.ts'
import { parseCarScope } from './dag-scope.ts'
import { walkDag } from './dag-walk.ts'
import { asGatewayError, sendGatewayError } from './error-response.ts'
import { GatewayError } from './gateway-error.ts'
import { parseGatewayRequest } from './gateway-request.ts'
import { negotiateFormat } from './negotiate-format.ts'
import { etagOf, responseHeaders, type Served } from './response-headers.ts'

export type GatewayHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>

/**
 * The IPFS Trustless Gateway (https://specs.ipfs.tech/http-gateways/trustless-gateway/) over the node's log:
 * `GET|HEAD /ipfs/{cid}` answers a raw block (`application/vnd.ipld.raw`) or a CARv1 of the DAG under the CID
 * (`application/vnd.ipld.car; version=1; order=dfs; dups=n|y`), chosen by `?format=` or Accept. Every block
 * sent is read through `log.getBlock`, which re-hashes it against its CID. The caller has checked auth and
 * that the path starts with `/ipfs/`. The handler answers every request itself and never throws.
 */
export function createGatewayHandler(log: Log): GatewayHandler {
  return async (req, res) => {
    const head = req.method === 'HEAD'
    try {
      await serve(log, req, res, head)
    } catch (err) {
      // Past the headers a CAR is being streamed: break the connection so the client sees a failed
      // transfer, never a truncated CAR that ends as if it were whole.
      if (res.headersSent) res.destroy(err instanceof Error ? err : undefined)
      else sendGatewayError(res, asGatewayError(err), head)
    }
  }
}

async function serve(log: Log, req: IncomingMessage, res: ServerResponse, head: boolean): Promise<void> {
  if (req.method !== 'GET' && !head) {
    const err = new GatewayError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed on /ipfs/: use GET or HEAD`)
    sendGatewayError(res, err, false, { allow: 'GET, HEAD' })
    return
  }
  const { cid, cidText, query } = parseGatewayRequest(req.url ?? '/')
  const format = negotiateFormat(req.headers.accept, query)
  // Every refusal of the request itself (400, 406) comes before the store is asked (404).
  const wanted = format.kind === 'car' ? { ...format, scope: parseCarScope(query) } : format
  const bytes = await readRoot(log, req, cid, cidText)
  const served: Served = wanted.kind === 'raw' ? { kind: 'raw', length: bytes.length } : wanted
  // The root's links are read before the status is sent: a root the gateway cannot walk is a clean error.
  const links = served.kind === 'car' && served.scope.scope === 'all' ? blockLinks(cid, bytes) : []
  const headers = responseHeaders(cid, cidText, query, served)
  if (clientHasEtag(req, etagOf(cid, served))) {
    delete headers['content-length']
    res.writeHead(304, headers)
    res.end()
    return
  }
  res.writeHead(200, headers)
  if (head) {
    res.end()
    return
  }
  if (served.kind === 'raw') {
    res.end(bytes)
    return
  }
  const blocks = walkDag(log, { cid, bytes, links }, { scope: served.scope.scope, dups: served.car.dups })
  await pipeline(Readable.from(carChunks(cid, blocks), { objectMode: false }), res)
}

/** The requested block itself, re-hashed: a 404 (412 under only-if-cached) naming the CID when it is not held. */
async function readRoot(log: Log, req: IncomingMessage, cid: CID, cidText: string): Promise<Uint8Array> {
  try {
    return await readBlock(log, cid)
  } catch (err) {
    if (!isVsdbError(err, 'NOT_FOUND')) throw asGatewayError(err, cidText)
    if (onlyIfCached(req)) {
      throw new GatewayError(412, 'PRECONDITION_FAILED', `${cidText} is not held by this node (only-if-cached)`, { cid: cidText })
    }
    throw new GatewayError(404, 'NOT_FOUND', `${cidText} is not held by this node`, { cid: cidText })
  }
}

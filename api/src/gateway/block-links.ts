import * as dagCbor from '@ipld/dag-cbor'
import { DAG_CBOR, payloadLinks, RAW } from '@vsdb/log'
import type { CID } from 'multiformats/cid'
import { GatewayError } from './gateway-error.ts'

/**
 * The CIDs a block links to, in the order its encoding holds them (DAG-CBOR map keys are sorted canonically,
 * so an event names `prev` before its payload's blocks). Raw blocks have no links. The log writes only these
 * two codecs; a block of any other cannot be walked, so a DAG under it is refused rather than sent partly.
 */
export function blockLinks(cid: CID, bytes: Uint8Array): CID[] {
  if (cid.code === RAW) return []
  if (cid.code !== DAG_CBOR) {
    throw new GatewayError(
      501,
      'UNSUPPORTED_CODEC',
      `block ${cid} has codec 0x${cid.code.toString(16)}: this gateway walks only dag-cbor and raw DAGs (ask for dag-scope=block or format=raw)`,
      { cid: cid.toString() },
    )
  }
  let value: unknown
  try {
    value = dagCbor.decode(bytes)
  } catch (err) {
    throw new GatewayError(422, 'INVALID_BLOCK', `block ${cid} is not valid dag-cbor: ${(err as Error).message}`, { cid: cid.toString() })
  }
  return payloadLinks(value)
}

import { createHash } from 'node:crypto'
import * as dagCbor from '@ipld/dag-cbor'

/**
 * sha-256 over the DAG-CBOR of a projection state: DAG-CBOR is canonical (sorted keys, shortest integers,
 * float64), so equal states give equal digests on any machine.
 */
export function stateDigest(state: unknown): string {
  return createHash('sha256').update(dagCbor.encode(state)).digest('hex')
}

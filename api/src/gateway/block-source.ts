import type { Log } from '@vsdb/log'
import type { CID } from 'multiformats/cid'

const IDENTITY = 0x00

/** An identity CID carries its block in its own digest: nothing is stored, and a CAR must not repeat it. */
export function isIdentity(cid: CID): boolean {
  return cid.multihash.code === IDENTITY
}

/**
 * The bytes of a block, re-hashed against its CID by the log (a changed byte is refused, never served);
 * identity CIDs are their own bytes. A block not held throws the log's NOT_FOUND.
 */
export function readBlock(log: Log, cid: CID): Promise<Uint8Array> {
  if (isIdentity(cid)) return Promise.resolve(cid.multihash.digest)
  return log.getBlock(cid)
}

import * as dagCbor from '@ipld/dag-cbor'
import * as cborg from 'cborg'
import { LevelDatastore } from 'datastore-level'
import { createHeliaLight, type Helia } from 'helia'
import type { Level } from 'level'
import { base36 } from 'multiformats/bases/base36'
import type { CID } from 'multiformats/cid'
import type { LevelBlockstore } from './level-blockstore.ts'

export interface PinRecord {
  key: string
  value: Uint8Array
}

const PIN_PREFIX = '/pin/'
const PINNED_BLOCK_PREFIX = '/pinned-block/'
const DIRECT_PIN = cborg.encode({ depth: 0, metadata: {} })

/**
 * Helia's own pin records for one block, pinned directly (depth 0), in the layout of Helia's Pins
 * (`/pin/<cid>` and `/pinned-block/<multihash>`, base36, cborg values). Writing them in the same Level batch
 * as the block makes "every block is pinned" hold at the moment an append is acknowledged, at the cost of
 * two small puts instead of a walk through Helia's pin API (≈ 900 pins/s here). A test checks that Helia's
 * `pins.isPinned`, `pins.ls` and `gc` read them as their own.
 */
export function pinnedBlockKey(cid: CID): string {
  return `${PINNED_BLOCK_PREFIX}${base36.encode(cid.multihash.bytes)}`
}

export function pinRecords(cid: CID): PinRecord[] {
  return [
    { key: `${PIN_PREFIX}${cid.toV1().toString(base36)}`, value: DIRECT_PIN },
    {
      key: pinnedBlockKey(cid),
      value: cborg.encode({ pinCount: 1, pinnedBy: [cid.bytes] }),
    },
  ]
}

/** The IPFS archive: Helia over the log's own blocks (one copy on disk), its pins in the same Level database. */
export async function startArchive(blockstore: LevelBlockstore, datastoreLevel: unknown): Promise<Helia> {
  const datastore = new LevelDatastore(datastoreLevel as Level<string, Uint8Array>)
  const helia = createHeliaLight({ blockstore, datastore, codecs: [dagCbor] })
  await helia.start()
  return helia
}

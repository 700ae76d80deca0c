import * as dagCbor from '@ipld/dag-cbor'
import { LevelDatastore } from 'datastore-level'
import { createHeliaLight, type Helia } from 'helia'
import type { Level } from 'level'
import type { LevelBlockstore } from './level-blockstore.ts'

/** The IPFS archive: Helia over the log's own blocks (one copy on disk), its pins in the same Level database. */
export async function startArchive(blockstore: LevelBlockstore, datastoreLevel: unknown): Promise<Helia> {
  const datastore = new LevelDatastore(datastoreLevel as Level<string, Uint8Array>)
  const helia = createHeliaLight({ blockstore, datastore, codecs: [dagCbor] })
  await helia.start()
  return helia
}

import * as dagCbor from '@ipld/dag-cbor'
import { type Helia, createHeliaLight } from 'helia'
import type { Datastore } from 'interface-datastore'
import { LevelDatastore } from 'datastore-level'
import type { Level } from 'level'
import { CID } from 'multiformats/cid'
import type { LevelBlockstore } from './level-blockstore.ts'

export interface Archive {
  readonly helia: Helia
  /** Pins every block queued by appends and imports; resolves when none is left. */
  pinPending(): Promise<number>
  pendingCount(): Promise<number>
  stop(): Promise<void>
}

export interface PendingPins {
  keys(limit: number): Promise<string[]>
  done(keys: string[]): Promise<void>
  count(): Promise<number>
}

/**
 * The IPFS archive: Helia over the log's own blocks (one copy on disk) with its pins in the same Level
 * database. Appends queue their CIDs in the same atomic batch as the blocks; pinning them happens off the
 * append path, and what a crash leaves queued is pinned after the next open.
 */
export async function startArchive(
  blockstore: LevelBlockstore,
  datastoreLevel: unknown,
  pending: PendingPins,
): Promise<Archive> {
  const datastore: Datastore = new LevelDatastore(datastoreLevel as Level<string, Uint8Array>)
  const helia = createHeliaLight({ blockstore, datastore, codecs: [dagCbor] })
  await helia.start()
  let running: Promise<number> | null = null

  async function pinAll(): Promise<number> {
    let pinned = 0
    for (;;) {
      const keys = await pending.keys(512)
      if (keys.length === 0) return pinned
      for (const key of keys) {
        const cid = CID.parse(key)
        if (await helia.pins.isPinned(cid)) continue
        for await (const _ of helia.pins.add(cid, { depth: 0 })) pinned++
      }
      await pending.done(keys)
    }
  }

  return {
    helia,
    pinPending() {
      running ??= pinAll().finally(() => {
        running = null
      })
      return running
    },
    pendingCount: () => pending.count(),
    async stop() {
      await running
      await helia.stop()
    },
  }
}

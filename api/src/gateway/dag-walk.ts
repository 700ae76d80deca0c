import type { Block, Log } from '@vsdb/log'
import type { CID } from 'multiformats/cid'
import { blockLinks } from './block-links.ts'
import { isIdentity, readBlock } from './block-source.ts'
import type { DagScope } from './dag-scope.ts'

/** The root, already read and checked before the response began (so a missing root is a clean 404). */
export interface RootBlock extends Block {
  /** Its links: needed only when the whole DAG is asked for. */
  links: CID[]
}

export interface WalkOptions {
  scope: DagScope
  /** Send a block every time the walk meets it (`dups=y`), not just the first time. */
  dups: boolean
  /** Most blocks one walk sends: with duplicates, a DAG of shared links can grow exponentially. */
  limit?: number
}

export const MAX_WALK_BLOCKS = 1_000_000

/**
 * The blocks of the DAG under a root in depth-first pre-order, links in the order each block holds them:
 * the root, then each link's whole sub-DAG in turn. With `dups` off each CID is sent once (where the walk
 * first meets it). Identity CIDs are walked but never sent. A block that is missing or does not match its
 * hash throws mid-walk: the caller must fail the response, not end it as if the DAG were complete.
 */
export async function* walkDag(log: Log, root: RootBlock, options: WalkOptions): AsyncGenerator<Block> {
  const limit = options.limit ?? MAX_WALK_BLOCKS
  let sent = 0
  const send = (cid: CID): boolean => {
    if (isIdentity(cid)) return false
    if (++sent > limit) throw new Error(`the DAG under ${root.cid} holds more than ${limit} blocks: too many for one response`)
    return true
  }
  if (send(root.cid)) yield { cid: root.cid, bytes: root.bytes }
  if (options.scope !== 'all') return
  const seen = new Set<string>([root.cid.toString()])
  const stack: CID[] = root.links.toReversed()
  while (stack.length > 0) {
    const cid = stack.pop() as CID
    if (!options.dups) {
      const key = cid.toString()
      if (seen.has(key)) continue
      seen.add(key)
    }
    const bytes = await readBlock(log, cid)
    const links = blockLinks(cid, bytes)
    if (send(cid)) yield { cid, bytes }
    for (let i = links.length - 1; i >= 0; i--) stack.push(links[i] as CID)
  }
}

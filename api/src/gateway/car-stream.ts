import { CarWriter } from '@ipld/car'
import type { Block } from '@vsdb/log'
import type { CID } from 'multiformats/cid'

/**
 * CARv1 bytes (header rooted at `root`, then the blocks in the order given), produced as they are read.
 * The CarWriter waits for each chunk to be taken, so memory stays at one block. If the blocks fail midway
 * the generator throws after the last good chunk, so the caller can break the response instead of ending a
 * truncated CAR as if it were whole. If the reader stops early, the walk stops too.
 */
export async function* carChunks(root: CID, blocks: AsyncIterable<Block>): AsyncGenerator<Uint8Array> {
  const { writer, out } = CarWriter.create([root])
  const chunks = out[Symbol.asyncIterator]()
  let stopped = false
  const feeding = (async () => {
    try {
      for await (const block of blocks) {
        if (stopped) break
        await writer.put(block)
      }
    } finally {
      await writer.close()
    }
  })()
  feeding.catch(() => {}) // its failure is rethrown below, after the chunks written before it
  let finished = false
  try {
    for (let next = await chunks.next(); next.done !== true; next = await chunks.next()) yield next.value
    await feeding
    finished = true
  } finally {
    if (!finished) {
      // The reader went away: let the writer's pending put settle and the walk see `stopped`.
      stopped = true
      void (async () => {
        for (let next = await chunks.next(); next.done !== true; next = await chunks.next()) {}
      })()
    }
  }
}

import type { AbstractSublevel } from 'abstract-level'
import type { ClassicLevel } from 'classic-level'
import type { Blockstore, InputPair, Pair } from 'interface-blockstore'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { bytesMatchCid, RAW } from './codec.ts'
import { VsdbError } from './errors.ts'

export type BlockSublevel = AbstractSublevel<ClassicLevel<string, Uint8Array>, string | Uint8Array, Uint8Array, Uint8Array>

/** Blocks are keyed by multihash (as Helia does): identical bytes are stored once whatever codec names them. */
export function blockKey(cid: CID): Uint8Array {
  return cid.multihash.bytes
}

/** The blocks keep their bytes only; a listing can name each block by its multihash as a raw CID. */
function cidFromKey(key: Uint8Array): CID {
  return CID.createV1(RAW, Digest.decode(key))
}

async function collect(bytes: InputPair['bytes']): Promise<Uint8Array> {
  if (bytes instanceof Uint8Array) return bytes
  const chunks: Uint8Array[] = []
  for await (const chunk of bytes) chunks.push(chunk)
  return Buffer.concat(chunks)
}

export function corruptBlock(cid: CID): VsdbError {
  return new VsdbError('CORRUPT_BLOCK', `block ${cid} does not match its hash`, { cid: cid.toString() })
}

/**
 * The log's block sublevel seen through Helia's Blockstore interface: one copy of every block on disk serves
 * both the log and the IPFS archive. Every read recomputes the hash, so a changed byte is never served.
 */
export class LevelBlockstore implements Blockstore {
  readonly #blocks: BlockSublevel

  constructor(blocks: BlockSublevel) {
    this.#blocks = blocks
  }

  /** The stored bytes as they are, for checks that report a mismatch instead of throwing. */
  getRaw(cid: CID): Promise<Uint8Array | undefined> {
    return this.#blocks.get(blockKey(cid))
  }

  getRawMany(cids: CID[]): Promise<(Uint8Array | undefined)[]> {
    return this.#blocks.getMany(cids.map(blockKey))
  }

  async getVerified(cid: CID): Promise<Uint8Array | undefined> {
    const bytes = await this.#blocks.get(blockKey(cid))
    if (bytes === undefined) return undefined
    if (!bytesMatchCid(cid, bytes)) throw corruptBlock(cid)
    return bytes
  }

  async put(cid: CID, bytes: InputPair['bytes']): Promise<CID> {
    const data = await collect(bytes)
    if (!bytesMatchCid(cid, data)) throw corruptBlock(cid)
    await this.#blocks.put(blockKey(cid), data)
    return cid
  }

  async *putMany(source: Iterable<InputPair> | AsyncIterable<InputPair>): AsyncGenerator<CID> {
    for await (const { cid, bytes } of source) yield await this.put(cid, bytes)
  }

  async *get(cid: CID): AsyncGenerator<Uint8Array> {
    const bytes = await this.getVerified(cid)
    if (bytes === undefined) {
      const err = new VsdbError('NOT_FOUND', `block ${cid} is not held here`, { cid: cid.toString() })
      Object.assign(err, { name: 'NotFoundError' })
      throw err
    }
    yield bytes
  }

  async *getMany(source: Iterable<CID> | AsyncIterable<CID>): AsyncGenerator<Pair> {
    for await (const cid of source) yield { cid, bytes: this.get(cid) }
  }

  async *getAll(): AsyncGenerator<Pair> {
    for await (const [key, value] of this.#blocks.iterator({ keyEncoding: 'view' })) {
      const bytes = value
      yield {
        cid: cidFromKey(key as Uint8Array),
        bytes: (async function* () {
          yield bytes
        })(),
      }
    }
  }

  async has(cid: CID): Promise<boolean> {
    return (await this.#blocks.get(blockKey(cid))) !== undefined
  }

  async delete(cid: CID): Promise<void> {
    // Nothing is deleted here: a removal is an event, and Helia's GC is never run on the log's blocks.
    throw new VsdbError('INVALID_INPUT', `refusing to delete block ${cid}: the archive is append-only`, {
      cid: cid.toString(),
    })
  }

  async *deleteMany(source: Iterable<CID> | AsyncIterable<CID>): AsyncGenerator<CID> {
    for await (const cid of source) {
      await this.delete(cid)
      yield cid
    }
  }
}

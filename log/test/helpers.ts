import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CarWriter } from '@ipld/car'
import type { CID } from 'multiformats/cid'
import { afterEach } from 'vitest'
import type { Block } from '../src/codec.ts'

const dirs: string[] = []

/** A fresh temp directory removed after the test: real Level on disk, never shared. */
export async function tempDir(prefix = 'vsdb-log-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  dirs.push(dir)
  return dir
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

export function trustPayload(peer: string, score = 0.5) {
  return { peer, score, uptime: 1, integrity: 1, consistency: score }
}

export async function collect<T>(source: AsyncIterable<T> | Iterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of source) out.push(item)
  return out
}

export async function* fromBytes(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes
}

/** A CARv1 of `blocks` under `roots`, written as they come: for CARs the log would never export itself. */
export async function carBytes(roots: CID[], blocks: Block[]): Promise<Uint8Array> {
  const { writer, out } = CarWriter.create(roots)
  const done = collect(out)
  for (const block of blocks) await writer.put(block)
  await writer.close()
  return Buffer.concat(await done)
}

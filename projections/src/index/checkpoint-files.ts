import { createHash, hash, randomBytes } from 'node:crypto'
import { createReadStream, readFileSync } from 'node:fs'
import { open, readdir, readFile, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { VsdbError } from '@vsdb/log'
import type { SegmentSpace } from './types.ts'

/**
 * The files of a segment index checkpoint, in one directory (one writer at a time):
 *
 *   hnsw-<dim>-<sha16>.bin   each dimension's HNSW as hnswlib writes it
 *   meta-<sha16>.bin         the metadata and float64 centroids (meta-codec.ts)
 *   manifest.json            written last: the options, the digest and each file's size and sha-256, and
 *                            `check`, the sha-256 of the manifest's own JSON without it (a flipped digit is caught)
 *
 * Every file is written under a temp name, fsynced and renamed; the manifest last, then the directory is
 * fsynced and the files no manifest names any more are removed. Content-named files mean a crash at any point
 * leaves the previous checkpoint whole or the new one whole. A reader trusts nothing the manifest does not
 * vouch for: a missing, truncated or altered file is refused, so the caller replays the log instead.
 */
export const MANIFEST = 'manifest.json'
export const FORMAT = 'vsdb-segment-index'
export const VERSION = 2
const TMP_PREFIX = '.segment-index-tmp-'
const OURS = /^(hnsw-\d+-[0-9a-f]{16}\.bin|meta-[0-9a-f]{16}\.bin)$/

export interface ManifestFile {
  name: string
  bytes: number
  sha256: string
}

export interface Manifest {
  format: typeof FORMAT
  version: number
  space: SegmentSpace
  m: number
  efConstruction: number
  seed: number
  count: number
  digest: string
  meta: ManifestFile
  dimensions: { dim: number; count: number; file: ManifestFile }[]
}

/** sha-256 (hex) of bytes or of a string's UTF-8, in one call (no hash object: what a restart's checks run). */
export const sha256 = (data: Uint8Array | string): string => hash('sha256', data)

export function tempPath(dir: string, what: string): string {
  return join(dir, `${TMP_PREFIX}${randomBytes(6).toString('hex')}-${what}`)
}

async function syncPath(path: string, flags: string): Promise<void> {
  const fh = await open(path, flags)
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** sha-256 and size of a file, streamed. */
export async function hashFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256')
  let bytes = 0
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer)
    bytes += (chunk as Buffer).length
  }
  return { sha256: hash.digest('hex'), bytes }
}

/** A file hnswlib has written under a temp name: fsync it, hash it, give it its content name. */
export async function commitWritten(dir: string, tmp: string, stem: string): Promise<ManifestFile> {
  await syncPath(tmp, 'r+')
  const { sha256, bytes } = await hashFile(tmp)
  const name = `${stem}-${sha256.slice(0, 16)}.bin`
  await rename(tmp, join(dir, name))
  return { name, bytes, sha256 }
}

/** Bytes to a content-named file: temp name, fsync, rename. */
export async function writeContentNamed(dir: string, stem: string, bytes: Uint8Array): Promise<ManifestFile> {
  const digest = sha256(bytes)
  const name = `${stem}-${digest.slice(0, 16)}.bin`
  await writeDurable(dir, name, bytes)
  return { name, bytes: bytes.length, sha256: digest }
}

/** Bytes to a file, fsynced before it is closed. */
export async function writeSynced(path: string, bytes: Uint8Array | string): Promise<void> {
  const fh = await open(path, 'w')
  try {
    await fh.writeFile(bytes)
    await fh.sync()
  } finally {
    await fh.close()
  }
}

async function writeDurable(dir: string, name: string, bytes: Uint8Array): Promise<void> {
  const tmp = tempPath(dir, name)
  await writeSynced(tmp, bytes)
  await rename(tmp, join(dir, name))
}

/** The manifest last, then the directory entry, then the files it no longer names. Returns its sha-256. */
export async function commitManifest(
  dir: string,
  manifest: Manifest,
  inFlight: ReadonlySet<string>,
): Promise<{ path: string; sha256: string }> {
  const check = sha256(JSON.stringify(manifest))
  const bytes = Buffer.from(`${JSON.stringify({ ...manifest, check }, null, 1)}\n`, 'utf8')
  await writeDurable(dir, MANIFEST, bytes)
  await syncPath(dir, 'r')
  const keep = new Set([manifest.meta.name, ...manifest.dimensions.map((d) => d.file.name)])
  for (const entry of await readdir(dir)) {
    const stale = (OURS.test(entry) && !keep.has(entry)) || (entry.startsWith(TMP_PREFIX) && !inFlight.has(entry))
    if (stale) await unlink(join(dir, entry)).catch(() => {})
  }
  return { path: join(dir, MANIFEST), sha256: sha256(bytes) }
}

/** Removes the temp files of a save that failed. */
export async function removeTemps(paths: string[]): Promise<void> {
  await Promise.all(paths.map((p) => unlink(p).catch(() => {})))
}

function corrupt(dir: string, what: string, file?: string): VsdbError {
  return new VsdbError('CORRUPT_BLOCK', `segment index checkpoint in ${dir}: ${what}`, {
    field: 'checkpoint',
    dir,
    ...(file ? { file } : {}),
  })
}

function isManifestFile(x: unknown): x is ManifestFile {
  const f = x as ManifestFile | null
  return (
    f !== null &&
    typeof f === 'object' &&
    typeof f.name === 'string' &&
    OURS.test(f.name) &&
    Number.isSafeInteger(f.bytes) &&
    f.bytes >= 0 &&
    typeof f.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(f.sha256)
  )
}

/**
 * Reads and checks the manifest (its hash, when one is expected, and its shape); no file it names has been looked
 * at yet. Read synchronously, as the graphs are (readVerifiedSync): a small file, on the way to hnswlib's load.
 */
export function readManifest(dir: string, expectedSha256?: string): Manifest {
  let bytes: Buffer
  try {
    bytes = readFileSync(join(dir, MANIFEST))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new VsdbError('NOT_FOUND', `no segment index checkpoint in ${dir} (no ${MANIFEST})`, { field: 'checkpoint', dir })
    }
    throw err
  }
  if (expectedSha256 !== undefined && sha256(bytes) !== expectedSha256) {
    throw corrupt(dir, `${MANIFEST} is not the one the outer checkpoint recorded`, MANIFEST)
  }
  let json: unknown
  try {
    json = JSON.parse(bytes.toString('utf8'))
  } catch {
    throw corrupt(dir, `${MANIFEST} is not JSON`, MANIFEST)
  }
  if (json === null || typeof json !== 'object' || (json as Partial<Manifest>).format !== FORMAT) {
    throw corrupt(dir, `${MANIFEST} is not a segment index manifest`, MANIFEST)
  }
  const { check, ...m } = json as Partial<Manifest> & { check?: unknown }
  if (typeof m.version !== 'number' || m.version > VERSION) {
    throw new VsdbError(
      'VERSION_TOO_NEW',
      `segment index checkpoint in ${dir} has version ${String(m.version)}, this code reads ${VERSION}`,
      {
        field: 'checkpoint',
        dir,
      },
    )
  }
  if (m.version < VERSION) throw corrupt(dir, `version ${m.version} is an older format, not read any more`, MANIFEST)
  if (check !== sha256(JSON.stringify(m))) {
    throw corrupt(dir, `${MANIFEST} does not match its own check`, MANIFEST)
  }
  const ints = [m.m, m.efConstruction, m.seed, m.count]
  if (
    (m.space !== 'l2' && m.space !== 'cosine') ||
    !ints.every((x) => Number.isSafeInteger(x) && (x as number) >= 0) ||
    typeof m.digest !== 'string' ||
    !isManifestFile(m.meta) ||
    !Array.isArray(m.dimensions) ||
    !m.dimensions.every(
      (d) => Number.isInteger(d?.dim) && d.dim > 0 && Number.isSafeInteger(d.count) && d.count >= 0 && isManifestFile(d.file),
    )
  ) {
    throw corrupt(dir, `${MANIFEST} is malformed`, MANIFEST)
  }
  return m as Manifest
}

/** Reads a file whole and checks it against its manifest entry. */
export async function readVerified(dir: string, file: ManifestFile): Promise<Buffer> {
  return verified(dir, file, await readFile(join(dir, file.name)).catch(() => undefined))
}

/**
 * readVerified without waiting for libuv's threads: for a file whose check is all that stands between a restart and
 * a worker thread's start (hnswlib's load of a graph), so the worker starts at once, not after the other reads.
 */
export function readVerifiedSync(dir: string, file: ManifestFile): Buffer {
  let bytes: Buffer | undefined
  try {
    bytes = readFileSync(join(dir, file.name))
  } catch {}
  return verified(dir, file, bytes)
}

function verified(dir: string, file: ManifestFile, bytes: Buffer | undefined): Buffer {
  if (bytes === undefined) throw corrupt(dir, `${file.name} is missing`, file.name)
  if (bytes.length !== file.bytes || sha256(bytes) !== file.sha256) {
    throw corrupt(dir, `${file.name} does not match its size and sha-256 in the manifest`, file.name)
  }
  return bytes
}

export function corruptCheckpoint(dir: string, what: string, file?: string): VsdbError {
  return corrupt(dir, what, file)
}

/** hnswlib writes without checking its stream: read back the element count it recorded (the 3rd size_t). */
export async function checkHnswHeader(path: string, count: number): Promise<void> {
  const fh = await open(path, 'r')
  try {
    const head = Buffer.alloc(24)
    const { bytesRead } = await fh.read(head, 0, 24, 0)
    const recorded = bytesRead === 24 ? Number(head.readBigUInt64LE(16)) : -1
    if (recorded !== count) {
      throw new VsdbError('WRITE_FAILED', `hnswlib wrote ${path} with ${recorded} elements, expected ${count}`, { field: 'dir', path })
    }
  } finally {
    await fh.close()
  }
}

import { readFileSync } from 'node:fs'
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Log } from '@vsdb/log'
import { sha256, writeSynced } from './index/checkpoint-files.ts'
import type { RestoredState, ViewsState } from './views.ts'
import { decodeViewsState, encodeViewsState } from './views-codec.ts'

const FORMAT = 4
const VIEWS_FILE = 'views.bin'
const POINTER = 'CURRENT'

export interface CheckpointManifest {
  format: number
  /** The log position covered: for each node its last seq folded, and the CID there (to detect a stale log). */
  position: Record<string, { seq: number; cid: string }>
  events: number
  files: Record<string, string>
  createdAt: string
  /** sha-256 of the manifest's own JSON without this field: a flipped digit of a seq or a hash is caught. */
  check?: string
}

/** Extra files a checkpoint carries beside the views (the vector index's files). */
export type CheckpointFiles = Record<string, Uint8Array>

/**
 * Writes a checkpoint of the views (and any extra files) under `root`: a new directory with every file
 * fsynced and a manifest of their hashes, then the `CURRENT` pointer swapped by rename, so a crash leaves
 * either the old checkpoint or the new one, never half of one. Older checkpoints are removed afterwards:
 * they are derived state, rebuilt from the log at will.
 */
export async function writeCheckpoint(
  root: string,
  log: Log,
  state: ViewsState,
  extra: CheckpointFiles = {},
  /** Writes more of the checkpoint into its directory (the vector index) and returns hashes to vouch for. */
  writeDirs?: (dir: string) => Promise<Record<string, string>>,
): Promise<CheckpointManifest> {
  await mkdir(root, { recursive: true })
  const name = `checkpoint-${Date.now()}-${process.pid}`
  const dir = join(root, name)
  await mkdir(dir)
  // V8's structured-clone bytes, the segments as columns (views-codec.ts): exact for every number, and read back
  // fast (what a restart waits on). A checkpoint is local, derived state: another Node that cannot read it
  // replays the log instead.
  const files: CheckpointFiles = { [VIEWS_FILE]: encodeViewsState(state), ...extra }
  const hashes: Record<string, string> = {}
  for (const [file, bytes] of Object.entries(files)) {
    await writeSynced(join(dir, file), bytes)
    hashes[file] = sha256(bytes)
  }
  if (writeDirs !== undefined) Object.assign(hashes, await writeDirs(dir))
  const position: CheckpointManifest['position'] = {}
  for (const [node, seq] of Object.entries(state.position)) {
    const [cid] = await log.cidsAt(node, seq)
    if (cid !== undefined) position[node] = { seq, cid: cid.toString() }
  }
  const manifest: CheckpointManifest = {
    format: FORMAT,
    position,
    events: state.events,
    files: hashes,
    createdAt: new Date().toISOString(),
  }
  manifest.check = manifestCheck(manifest)
  await writeSynced(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2))
  await writeSynced(join(root, `${POINTER}.tmp`), name)
  await rename(join(root, `${POINTER}.tmp`), join(root, POINTER))
  for (const entry of await readdir(root)) {
    if (entry.startsWith('checkpoint-') && entry !== name) await rm(join(root, entry), { recursive: true, force: true })
  }
  return manifest
}

const manifestCheck = ({ check: _, ...rest }: CheckpointManifest): string => sha256(JSON.stringify(rest))

export interface LoadedCheckpoint<T = undefined> {
  /** The checkpoint's directory, for parts that read their own files (the vector index). */
  dir: string
  manifest: CheckpointManifest
  state: RestoredState
  files: CheckpointFiles
  /** What `readDirs` read. */
  dirs: T
}

export type Rejected = { rejected: string }

/**
 * Loads the current checkpoint, or says why it cannot be trusted: a missing file, a hash that does not match,
 * a state that cannot be read back, or a position the log does not hold (a stale or foreign
 * checkpoint). The caller then replays the log from zero; a checkpoint is never trusted on its word.
 */
export async function loadCheckpoint(root: string, log: Log): Promise<LoadedCheckpoint | Rejected> {
  const read = await readCheckpoint(root, async () => undefined)
  if ('rejected' in read) return read
  return (await checkPosition(read, log)) ?? read
}

/** A checkpoint's directory and its manifest, whose own check has passed; none of its files read yet. */
export interface OpenedCheckpoint {
  dir: string
  manifest: CheckpointManifest
}

/**
 * The current checkpoint's files, each checked against the sha-256 its manifest vouches for, and the views
 * state decoded; the log is not looked at (see checkPosition), so this may run while the log opens.
 * `readDirs` reads what `writeCheckpoint`'s `writeDirs` wrote, given the hashes the manifest vouches for
 * them by; it runs alongside the views (its reads and any worker thread overlap their decoding), and a
 * throw from it rejects the checkpoint.
 */
export async function readCheckpoint<T>(
  root: string,
  readDirs: (dir: string, hashes: Readonly<Record<string, string>>) => Promise<T>,
): Promise<LoadedCheckpoint<T> | Rejected> {
  const opened = await openCheckpoint(root)
  return 'rejected' in opened ? opened : readCheckpointFiles(opened, readDirs)
}

/**
 * The current checkpoint's manifest (the first step of readCheckpoint): a caller may check its position meanwhile.
 * Two small files, read synchronously: the reads after them (the vector index's graphs, which a worker thread
 * then loads) start without waiting for a turn of the event loop.
 */
export async function openCheckpoint(root: string): Promise<OpenedCheckpoint | Rejected> {
  let name: string
  try {
    name = readFileSync(join(root, POINTER), 'utf8').trim()
  } catch {
    return { rejected: 'no checkpoint' }
  }
  const dir = join(root, name)
  let manifest: CheckpointManifest
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as CheckpointManifest
  } catch (err) {
    return { rejected: `checkpoint unreadable: ${(err as Error).message}` }
  }
  if (manifest.format !== FORMAT) return { rejected: `checkpoint format ${manifest.format} is not ${FORMAT}` }
  if (manifest.check !== manifestCheck(manifest)) return { rejected: 'checkpoint manifest does not match its own check' }
  return { dir, manifest }
}

/** The rest of readCheckpoint: the files of a checkpoint whose manifest openCheckpoint read. */
export async function readCheckpointFiles<T>(
  { dir, manifest }: OpenedCheckpoint,
  readDirs: (dir: string, hashes: Readonly<Record<string, string>>) => Promise<T>,
): Promise<LoadedCheckpoint<T> | Rejected> {
  const dirs = readDirs(dir, manifest.files).then(
    (value) => ({ value }),
    (err: unknown) => ({ rejected: `checkpoint ${dir}: ${(err as Error).message}` }),
  )
  const views = await readViews(dir, manifest)
  const read = await dirs
  if ('rejected' in views) return views
  if ('rejected' in read) return read
  return { dir, manifest, ...views, dirs: read.value }
}

/** The checkpoint's own files (all but directories, which vouch for themselves) and the views state in them. */
async function readViews(dir: string, manifest: CheckpointManifest): Promise<{ state: RestoredState; files: CheckpointFiles } | Rejected> {
  try {
    const names = Object.keys(manifest.files).filter((file) => !file.endsWith('/'))
    const read = await Promise.all(names.map((file) => readFile(join(dir, file))))
    const files: CheckpointFiles = {}
    for (const [i, file] of names.entries()) {
      const bytes = read[i] as Buffer
      if (sha256(bytes) !== manifest.files[file]) return { rejected: `checkpoint file ${file} does not match its hash` }
      files[file] = bytes
    }
    const views = files[VIEWS_FILE]
    if (views === undefined) return { rejected: 'checkpoint has no views' }
    const state = decodeViewsState(views)
    const covered = Object.entries(manifest.position)
    if (covered.length !== Object.keys(state.position).length || covered.some(([node, { seq }]) => state.position[node] !== seq)) {
      return { rejected: 'checkpoint views do not cover the position of its manifest' }
    }
    return { state, files }
  } catch (err) {
    return { rejected: `checkpoint unreadable: ${(err as Error).message}` }
  }
}

/** A stale or foreign checkpoint: one whose position (each node's seq and the CID there) this log does not hold. */
export async function checkPosition(checkpoint: Pick<LoadedCheckpoint, 'manifest'>, log: Log): Promise<Rejected | undefined> {
  try {
    for (const [node, { seq, cid }] of Object.entries(checkpoint.manifest.position)) {
      const held = (await log.cidsAt(node, seq)).map(String)
      if (!held.includes(cid)) return { rejected: `checkpoint covers ${node} up to seq ${seq}, which this log does not hold` }
    }
    return undefined
  } catch (err) {
    return { rejected: `checkpoint position unreadable: ${(err as Error).message}` }
  }
}

import { createReadStream, createWriteStream, openAsBlob } from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import {
  type ClusterStatus,
  clusterStatus,
  defaultParts,
  type IngestOptions,
  type IngestSummary,
  type Observation,
  openNode,
  type QueryOptions,
  type ReadOptions,
  type ReleaseSummary,
  type RetentionView,
  readObservations,
  type SegmentHit,
  type VsdbNode,
} from '@vsdb/engine'
import {
  type AuditReport,
  auditLog,
  exportCar,
  type ImportResult,
  importCar,
  type Log,
  openLog,
  type RetentionPolicy,
  resolveDataDir,
  VsdbError,
} from '@vsdb/log'
import type { VsdbClient } from '../client/create-client.ts'
import { createClient } from '../client/node-client.ts'
import { errorOfTrpc } from './remote-errors.ts'
import { runningNode } from './serve-file.ts'

/** What the commands need of a node: the node itself in this process, or a running `vsdb serve` through its API. */
export interface NodeAccess {
  readonly remote: string | null
  ingest(files: string[], options: Pick<IngestOptions, 'entity' | 'format' | 'onProgress'>): Promise<IngestSummary>
  query(query: QueryOptions): Promise<SegmentHit[]>
  digest(): Promise<{ events: number; digest: string }>
  replay(into: string | undefined): Promise<{ events: number; digest: string }>
  read(options: ReadOptions): Promise<{ rows: Observation[]; dim: number | undefined }>
  status(): Promise<ClusterStatus>
  audit(): Promise<AuditReport>
  exportCar(path: string): Promise<Record<string, unknown>>
  importCar(path: string): Promise<ImportResult>
  retention(): Promise<RetentionView & { node: string }>
  setRetention(policy: RetentionPolicy): Promise<{ policy: RetentionPolicy; changed: boolean; released?: ReleaseSummary }>
}

/** Observations per API call when a file is ingested through a running node. */
const REMOTE_BATCH = 10_000

function remoteAccess(client: VsdbClient, url: string): NodeAccess {
  return {
    remote: url,
    async ingest(files, options) {
      // Every row of every file is checked here first, as a local ingest does, so that a bad row leaves the node
      // untouched; then the files are read again and sent in batches (memory stays bounded, as locally).
      const read = (file: string, dims: Map<string, number>, validateOnly: boolean) =>
        readObservations({ path: file, format: options.format, entity: options.entity, knownDimensions: dims, validateOnly })
      const checked = new Map<string, number>()
      for (const file of files) for await (const _ of read(file, checked, true));
      const total: IngestSummary = { files: files.length, rows: 0, events: 0, segments: 0, entities: [], from: null, to: null, head: null }
      const entities = new Set<string>()
      let pending: Observation[] = []
      const send = async (file: string): Promise<void> => {
        if (pending.length === 0) return
        const part = await client.ingest.mutate({ observations: pending })
        pending = []
        total.rows += part.rows
        total.events += part.events
        total.segments += part.segments
        for (const e of part.entities) entities.add(e)
        total.from = total.from === null ? part.from : Math.min(total.from, part.from ?? total.from)
        total.to = total.to === null ? part.to : Math.max(total.to, part.to ?? total.to)
        total.head = part.head ?? total.head
        options.onProgress?.({ file, pass: 'write', rows: total.rows, fileBytes: 0, totalBytes: 0 })
      }
      const dims = new Map<string, number>()
      for (const file of files) {
        for await (const batch of read(file, dims, false)) {
          pending.push(...batch)
          if (pending.length >= REMOTE_BATCH) await send(file)
        }
      }
      await send(files.at(-1) ?? '')
      total.entities = [...entities].sort()
      return total
    },
    query: (query) => client.query.query(query),
    digest: () => client.digest.query(),
    async replay(into) {
      if (into !== undefined) throw new VsdbError('IN_USE', `--into needs the data directory to itself; a running node (${url}) holds it`)
      return await client.replayDigest.query()
    },
    async read(options) {
      const rows = await client.read.query(options)
      const entity = (await client.entities.query()).find((e) => e.entity === options.entity)
      return { rows, dim: entity?.dim }
    },
    status: () => client.status.query(),
    audit: () => client.audit.query(),
    async exportCar(path) {
      const chunks = await client.export.query()
      await pipeline(
        Readable.from(
          (async function* () {
            for await (const chunk of chunks) yield Buffer.from(chunk, 'base64')
          })(),
        ),
        createWriteStream(path),
      )
      return { via: url }
    },
    async importCar(path) {
      return await client.import.mutate(await openAsBlob(path))
    },
    async retention() {
      const [view, status] = await Promise.all([client.retention.query(), client.status.query()])
      return { ...view, node: status.members[0]?.node_id ?? '' }
    },
    setRetention: (policy) => client.setRetention.mutate({ policy }),
  }
}

/**
 * Runs `run` with the node of the data directory: through the API of the `vsdb serve` that holds it, if one
 * does, else by opening it here (and closing it after).
 */
export async function withNodeAccess<T>(dirOption: string | undefined, run: (access: NodeAccess) => Promise<T>): Promise<T> {
  const dir = resolveDataDir(dirOption)
  const served = await runningNode(dir)
  if (served !== null) {
    const client = createClient({ url: served.url, token: served.token })
    try {
      return await run(remoteAccess(client, served.url))
    } catch (err) {
      throw errorOfTrpc(err)
    } finally {
      await client.close()
    }
  }
  const local = localAccess(dir)
  try {
    return await run(local.access)
  } finally {
    await local.close()
  }
}

/**
 * The data directory opened in this process, lazily: the audit, export and import need only the log (and must
 * work on a log whose projections cannot be folded); the rest open the node.
 */
function localAccess(dir: string): { access: NodeAccess; close(): Promise<void> } {
  let node: Promise<VsdbNode> | null = null
  let log: Promise<Log> | null = null
  const getNode = (): Promise<VsdbNode> => {
    node ??= openNode({ dir, parts: defaultParts() })
    return node
  }
  const getLog = (): Promise<Log> => {
    log ??= node === null ? openLog({ dir }) : node.then((n) => n.log)
    return log
  }
  const access: NodeAccess = {
    remote: null,
    ingest: async (files, options) => (await getNode()).ingest(files, options),
    query: async (query) => (await getNode()).query(query),
    digest: async () => (await getNode()).digest(),
    replay: async (into) => (await getNode()).replay({ into }),
    async read(options) {
      const n = await getNode()
      return { rows: await n.read(options), dim: n.views.entity(options.entity)?.dim }
    },
    status: async () => clusterStatus(await getNode()),
    audit: async () => auditLog(await getLog()),
    async exportCar(path) {
      const car = await exportCar(await getLog())
      await pipeline(Readable.from(car.out), createWriteStream(path))
      return { roots: car.roots.map(String), ...(await car.done) }
    },
    async importCar(path) {
      return await importCar(await getLog(), createReadStream(path))
    },
    async retention() {
      const n = await getNode()
      return { ...n.retention(), node: n.log.node }
    },
    setRetention: async (policy) => (await getNode()).setRetention(policy),
  }
  const close = async (): Promise<void> => {
    if (node !== null) await (await node).close()
    else if (log !== null) await (await log).close()
  }
  return { access, close }
}

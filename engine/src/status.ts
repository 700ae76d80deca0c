import type { Log } from '@vsdb/log'
import { z } from 'zod'
import type { VsdbNode } from './node.ts'

const memberSchema = z.strictObject({
  node_id: z.string(),
  transport: z.enum(['libp2p', 'http', 'websocket']),
  peer_id: z.string().optional(),
  address: z.string().optional(),
  state: z.enum(['online', 'offline', 'syncing', 'revoked']),
  role: z.enum(['edge', 'coordinator']),
  entities: z.number().int().nonnegative(),
  shards: z.number().int().nonnegative().optional(),
  last_sync: z.string().nullable().optional(),
  sync_policy: z.string(),
})

/** `GET /v1/cluster/status` and `vsdb status`: the seed's field names, exactly. */
export const clusterStatusSchema = z.strictObject({
  cluster_id: z.string(),
  topology: z.enum(['standalone', 'edge-cloud', 'mesh']),
  node_count: z.number().int().positive(),
  members: z.array(memberSchema).min(1),
  ipfs: z.strictObject({
    archived_segments: z.number().int().nonnegative(),
    total_cids: z.number().int().nonnegative(),
    pinned_nodes: z.number().int().nonnegative(),
    last_archive: z.string().nullable(),
  }),
  privacy: z.strictObject({
    differential_privacy_enabled: z.boolean(),
    shared_segments_noised: z.number().int().nonnegative(),
  }),
})
export type ClusterStatus = z.infer<typeof clusterStatusSchema>

/** Shares whose copy was noised (they record a mechanism); raw shares do not count. */
async function countNoisedShares(log: Log): Promise<number> {
  let n = 0
  for await (const { cid } of log.byType('share')) {
    const { event } = await log.getEvent(cid)
    if ((event.payload as { mechanism: string | null }).mechanism !== null) n++
  }
  return n
}

/**
 * What this node knows of its cluster. Until replication lands a node is a cluster of one: itself, with
 * the entities it holds; its archive is its pinned blocks.
 */
export async function clusterStatus(node: VsdbNode): Promise<ClusterStatus> {
  const { log, views } = node
  const [stats, shares] = await Promise.all([log.stats(), countNoisedShares(log)])
  // Entities whose observations this node holds (from ingest events), and every segment event held.
  const entities = views.entities().filter((e) => e.observations > 0).length
  const segments = views.counts().byType.segment ?? 0
  const head = log.head()
  const lastEvent = head === null ? null : await log.getEvent(head.cid)
  const member: ClusterStatus['members'][number] = {
    node_id: log.node,
    transport: 'libp2p',
    peer_id: log.node,
    state: 'online',
    role: log.config.role,
    entities,
    sync_policy: 'local-only',
  }
  if (log.config.role === 'coordinator') member.shards = 0
  else member.last_sync = null
  return clusterStatusSchema.parse({
    cluster_id: log.config.cluster,
    topology: 'standalone',
    node_count: 1,
    members: [member],
    ipfs: {
      archived_segments: segments,
      total_cids: stats.blocks,
      pinned_nodes: stats.pins > 0 ? 1 : 0,
      last_archive: lastEvent === null ? null : new Date(lastEvent.event.ts).toISOString(),
    },
    privacy: { differential_privacy_enabled: false, shared_segments_noised: shares },
  })
}

import { CID } from 'multiformats/cid'
import { z } from 'zod'

export const EVENT_TYPES = [
  'ingest',
  'segment',
  'trust',
  'licence',
  'revocation',
  'membership',
  'share',
  'privacy',
  'conflict',
  'resolution',
  'manifest',
  'retention',
] as const
export type EventType = (typeof EVENT_TYPES)[number]

/** What a node does with its own raw `ingest` batch blocks once their observations are sealed in segments. */
export const RETENTION_POLICIES = ['keep', 'drop-after-seal'] as const
export type RetentionPolicy = (typeof RETENTION_POLICIES)[number]
/** Ingest events one `retention` event releases at most (a release of more is several events, written at once). */
export const MAX_RELEASED_PER_EVENT = 1024

export const cidSchema = z.custom<CID>((value) => CID.asCID(value) != null, { message: 'expected a CID link' })
const peerIdString = z.string().min(1).max(128)
const timestamp = z.number().int().safe()
const unit = z.number().min(0).max(1)
const finite = z.number().finite()
const role = z.enum(['edge', 'coordinator'])

const payloads = {
  /** The genesis event of a node: who it is and which cluster it belongs to. */
  manifest: z.strictObject({
    format: z.number().int().positive(),
    role,
    cluster: z.string().min(1).max(128),
    software: z.string().max(128),
  }),
  /** A batch of observations of one entity; the observations themselves are the linked block. */
  ingest: z.strictObject({
    entity: z.string().min(1).max(256),
    count: z.number().int().positive(),
    dim: z.number().int().positive().max(65536),
    from: timestamp,
    to: timestamp,
    batch: cidSchema,
  }),
  /**
   * A sealed window of one entity's observations: its summary (what the index and peers hold) and its
   * compressed observations as a linked block. `through` counts the entity's observations, in arrival
   * order, up to the last one in this segment: what a restart needs to rebuild the open segment.
   */
  segment: z.strictObject({
    entity: z.string().min(1).max(256),
    from: timestamp,
    to: timestamp,
    count: z.number().int().positive(),
    through: z.number().int().positive(),
    centroid: z.array(finite).min(1),
    min: z.array(finite).min(1),
    max: z.array(finite).min(1),
    anomaly: unit,
    alerts: z.array(z.strictObject({ ts: timestamp, score: unit })),
    regime: z.string().max(64),
    codec: z.string().min(1).max(64),
    errorBound: z.array(z.number().min(0)),
    data: cidSchema,
  }),
  trust: z.strictObject({
    peer: peerIdString,
    score: unit,
    uptime: unit,
    integrity: unit,
    consistency: unit,
  }),
  licence: z.strictObject({
    peer: peerIdString,
    role,
    cluster: z.string().min(1).max(128),
    expires: timestamp.nullable(),
  }),
  revocation: z.strictObject({ licence: cidSchema, reason: z.string().max(1024) }),
  membership: z.strictObject({
    peer: peerIdString,
    action: z.enum(['join', 'leave']),
    role,
    addrs: z.array(z.string().max(512)).max(64),
  }),
  share: z.strictObject({
    segment: cidSchema,
    copy: cidSchema,
    to: peerIdString.nullable(),
    mechanism: z.string().max(64).nullable(),
    epsilon: z.number().positive().nullable(),
    sensitivity: z.number().positive().nullable(),
  }),
  privacy: z.strictObject({
    enabled: z.boolean(),
    epsilon: z.number().positive().nullable(),
    budget: z.number().positive().nullable(),
  }),
  /** Two different facts where there should be one: a fork of a chain, or two segments for one window. */
  conflict: z.strictObject({
    kind: z.enum(['fork', 'segment']),
    node: peerIdString.nullable(),
    seq: z.number().int().nonnegative().nullable(),
    entity: z.string().max(256).nullable(),
    cids: z.array(cidSchema).min(2),
  }),
  resolution: z.strictObject({ conflict: cidSchema, keep: cidSchema, note: z.string().max(1024) }),
  /**
   * Raw retention. Every one states the node's policy from then on; a policy change releases nothing. A release
   * (policy `drop-after-seal`) names the node's own `ingest` events whose batch blocks it unpins and deletes:
   * the events are kept (and linked, so the DAG of this event stays whole), only their `batch` blocks go, in the
   * same atomic write as this event. `bytes` is the size of those blocks. `resume` links the engine's state of the
   * entity at its last seal (segmenter and model), so a restart continues without the released observations.
   */
  retention: z
    .strictObject({
      policy: z.enum(RETENTION_POLICIES),
      released: z.array(cidSchema).max(MAX_RELEASED_PER_EVENT),
      bytes: z.number().int().nonnegative().safe(),
      resume: z.strictObject({ entity: z.string().min(1).max(256), through: z.number().int().positive(), state: cidSchema }).nullable(),
    })
    .refine((p) => p.released.length === 0 || p.policy === 'drop-after-seal', {
      message: 'only the drop-after-seal policy releases blocks',
      path: ['released'],
    })
    .refine((p) => p.released.length > 0 || (p.bytes === 0 && p.resume === null), {
      message: 'a policy change (nothing released) has bytes 0 and no resume state',
      path: ['bytes'],
    })
    .refine((p) => new Set(p.released.map(String)).size === p.released.length, {
      message: 'names an ingest event twice',
      path: ['released'],
    }),
} satisfies Record<EventType, z.ZodType>

export const payloadSchemas: { readonly [T in EventType]: (typeof payloads)[T] } = payloads
export type PayloadOf<T extends EventType> = z.infer<(typeof payloads)[T]>

export const eventTypeSchema = z.enum(EVENT_TYPES)

/** The envelope every event shares; the payload is checked against its type's schema separately. */
export const envelopeSchema = z.strictObject({
  v: z.literal(1),
  type: eventTypeSchema,
  node: peerIdString,
  seq: z.number().int().nonnegative().safe(),
  ts: timestamp,
  prev: cidSchema.nullable(),
  payload: z.record(z.string(), z.unknown()),
  sig: z.instanceof(Uint8Array).refine((b) => b.length === 64, 'expected a 64-byte Ed25519 signature'),
})

export function describeZodError(error: z.ZodError, prefix = ''): { field: string; message: string } {
  const issue = error.issues[0]
  const path = [prefix, ...(issue?.path ?? []).map(String)].filter((p) => p !== '').join('.')
  return { field: path === '' ? '(root)' : path, message: issue?.message ?? 'invalid value' }
}

import { CID } from 'multiformats/cid'
import { bytesMatchCid, decodeEventWithMessage, payloadLinks, type SignedEvent } from './codec.ts'
import { isVsdbError } from './errors.ts'
import { verifySignature } from './keys.ts'
import type { EventType, PayloadOf } from './schema.ts'

/** The payload facts that audits and imports need to judge raw retention (what was released, and whether it may be). */
export type EventFacts =
  | { type: 'ingest'; entity: string; count: number; batch: string }
  | { type: 'segment'; entity: string; through: number }
  | { type: 'retention'; released: string[] }

/** What chain checks need to know of one event block, once its hash, encoding and signature hold. */
export interface EventSummary {
  cid: string
  ok: true
  type: EventType
  node: string
  seq: number
  ts: number
  prev: string | null
  links: string[]
  facts?: EventFacts
}

export interface EventProblem {
  cid: string
  ok: false
  code: 'CORRUPT_BLOCK' | 'INVALID_EVENT' | 'BAD_SIGNATURE' | 'MISSING_BLOCK'
  message: string
  node?: string
  seq?: number
}

export type EventCheck = EventSummary | EventProblem

/** Checks one event block on its own: hash, DAG-CBOR, schemas, canonical form and the author's signature. */
export function checkEventBlock(cidText: string, bytes: Uint8Array): EventCheck {
  const cid = CID.parse(cidText)
  if (!bytesMatchCid(cid, bytes)) {
    return { cid: cidText, ok: false, code: 'CORRUPT_BLOCK', message: `block ${cidText} does not match its hash` }
  }
  let event: SignedEvent
  let message: Uint8Array
  try {
    ;({ event, message } = decodeEventWithMessage(cid, bytes))
  } catch (err) {
    const message = isVsdbError(err) ? err.message : String(err)
    return { cid: cidText, ok: false, code: 'INVALID_EVENT', message }
  }
  let valid = false
  try {
    valid = verifySignature(event.node, message, event.sig)
  } catch {
    valid = false
  }
  if (!valid) {
    return {
      cid: cidText,
      ok: false,
      code: 'BAD_SIGNATURE',
      message: `event ${cidText} (node ${event.node}, seq ${event.seq}) has a bad signature`,
      node: event.node,
      seq: event.seq,
    }
  }
  return {
    cid: cidText,
    ok: true,
    type: event.type,
    node: event.node,
    seq: event.seq,
    ts: event.ts,
    prev: event.prev === null ? null : event.prev.toString(),
    links: payloadLinks(event.payload).map(String),
    facts: factsOf(event),
  }
}

export function factsOf(event: SignedEvent): EventFacts | undefined {
  if (event.type === 'ingest') {
    const p = event.payload as PayloadOf<'ingest'>
    return { type: 'ingest', entity: p.entity, count: p.count, batch: p.batch.toString() }
  }
  if (event.type === 'segment') {
    const p = event.payload as PayloadOf<'segment'>
    return { type: 'segment', entity: p.entity, through: p.through }
  }
  if (event.type === 'retention') return { type: 'retention', released: (event.payload as PayloadOf<'retention'>).released.map(String) }
  return undefined
}

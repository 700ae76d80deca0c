import { Worker } from 'node:worker_threads'
import { CID } from 'multiformats/cid'
import { type EventDraft, type SignedDraft, signDrafts } from './assemble.ts'
import type { Signer } from './keys.ts'

export interface ChainSigner {
  /** Signs drafts in chain order after `head`. */
  sign(head: { seq: number; cid: CID } | null, drafts: EventDraft[]): Promise<SignedDraft[]>
  close(): Promise<void>
}

// A worker round trip costs about as much as signing a few events; below this many a group is signed inline.
const WORKER_FROM = 24

/**
 * Signing follows the chain (each event names the CID of the one before, which covers its signature), so it
 * cannot be spread over cores; it can leave the main thread, though. Large groups are signed in a worker
 * while the main thread validates, encodes and writes the previous group; small ones (a lone awaited append)
 * inline, where a thread hop would only add latency.
 */
export function createChainSigner(signer: Signer): ChainSigner {
  let worker: Worker | null = null
  let nextId = 0
  const waiting = new Map<number, { resolve: (signed: SignedDraft[]) => void; reject: (err: unknown) => void }>()

  function start(): Worker {
    const w = new Worker(new URL('./sign-worker.ts', import.meta.url), { workerData: { node: signer.node, jwk: signer.jwk } })
    w.unref()
    w.on('message', (msg: { id: number; signed: { bytes: Uint8Array; cid: Uint8Array; sig: Uint8Array }[] }) => {
      const job = waiting.get(msg.id)
      waiting.delete(msg.id)
      job?.resolve(msg.signed.map((s) => ({ bytes: s.bytes, cid: CID.decode(s.cid), sig: s.sig })))
    })
    w.on('error', (err) => {
      for (const job of waiting.values()) job.reject(err)
      waiting.clear()
      worker = null
    })
    return w
  }

  return {
    async sign(head, drafts) {
      if (drafts.length < WORKER_FROM) return signDrafts(signer.node, signer.sign, head, drafts)
      worker ??= start()
      const id = nextId++
      const target = worker
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject })
        target.postMessage({ id, head: head === null ? null : { seq: head.seq, cid: head.cid.bytes }, drafts })
      })
    },
    async close() {
      await worker?.terminate()
      worker = null
    },
  }
}

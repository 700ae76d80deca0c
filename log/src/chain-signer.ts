import { Worker } from 'node:worker_threads'
import { CID } from 'multiformats/cid'
import { type EventDraft, type SignedDraft, signDrafts } from './assemble.ts'
import type { Signer } from './keys.ts'

export interface ChainRun {
  /** Signs the next drafts of the chain; slices come back in the order they were pushed. */
  push(drafts: EventDraft[]): Promise<SignedDraft[]>
}

export interface ChainSigner {
  /** Starts a run after `head`; `size` (the events it will sign) picks inline or worker signing. */
  begin(head: { seq: number; cid: CID } | null, size: number): ChainRun
  /** Starts the worker now and resolves once it can sign (runs before that are signed inline). */
  warm(): Promise<void>
  close(): Promise<void>
}

// A worker round trip costs about as much as signing a few events; below this many a run is signed inline.
const WORKER_FROM = 24

interface WireSigned {
  bytes: Uint8Array
  cid: Uint8Array
  sig: Uint8Array
}

/**
 * Signing follows the chain (each event names the CID of the one before, which covers its signature), so it
 * cannot be spread over cores; it can leave the main thread, though. A large run is pushed to a worker in
 * slices: the worker signs slice n while the main thread encodes slice n + 1 and turns slice n − 1 into Level
 * writes. Small runs (a lone awaited append) are signed inline, where a thread hop would only add latency.
 */
export function createChainSigner(signer: Signer): ChainSigner {
  let worker: Worker | null = null
  let ready = false
  const onReady: (() => void)[] = []
  let nextId = 0
  const waiting = new Map<number, { resolve: (signed: SignedDraft[]) => void; reject: (err: unknown) => void }>()

  function start(): Worker {
    const w = new Worker(new URL('./sign-worker.ts', import.meta.url), { workerData: { node: signer.node, jwk: signer.jwk } })
    w.unref()
    w.on('message', (msg: { id: number; signed: WireSigned[] } | 'ready') => {
      if (msg === 'ready') {
        ready = true
        for (const resolve of onReady.splice(0)) resolve()
        return
      }
      const job = waiting.get(msg.id)
      waiting.delete(msg.id)
      job?.resolve(msg.signed.map((s) => ({ bytes: s.bytes, cid: CID.decode(s.cid), sig: s.sig })))
    })
    w.on('error', (err) => {
      for (const job of waiting.values()) job.reject(err)
      waiting.clear()
      worker = null
      ready = false
    })
    return w
  }

  return {
    begin(head, size) {
      // The worker takes a moment to load; until it says it is ready, runs are signed inline.
      if (size >= WORKER_FROM) worker ??= start()
      if (size < WORKER_FROM || !ready || worker === null) {
        let last = head
        return {
          async push(drafts) {
            const signed = signDrafts(signer.node, signer.sign, last, drafts)
            const tail = signed.at(-1)
            if (tail !== undefined) last = { seq: (last?.seq ?? -1) + signed.length, cid: tail.cid }
            return signed
          },
        }
      }
      const target = worker
      let first = true
      return {
        push(drafts) {
          const id = nextId++
          const reset = first ? { head: head === null ? null : { seq: head.seq, cid: head.cid.bytes } } : {}
          first = false
          return new Promise((resolve, reject) => {
            waiting.set(id, { resolve, reject })
            target.postMessage({ id, drafts, ...reset })
          })
        },
      }
    },
    warm() {
      worker ??= start()
      if (ready) return Promise.resolve()
      return new Promise((resolve) => onReady.push(resolve))
    },
    async close() {
      await worker?.terminate()
      worker = null
      ready = false
    },
  }
}

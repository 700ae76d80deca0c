import { Worker } from 'node:worker_threads'
import type { CID } from 'multiformats/cid'
import { type EventDraft, type PackedSigned, packDrafts, type SignedDraft, signDrafts, unpackSigned } from './assemble.ts'
import { VsdbError } from './errors.ts'
import type { Signer } from './keys.ts'

/** Where a chain stands: the drafts signed next follow this event (none: they start the chain). */
export type ChainTip = { seq: number; cid: CID } | null

export interface ChainSigner {
  /**
   * Whether the worker should sign `size` events now: a run that large, or any run while the log is already busy
   * (`streaming`: its callers wait for an earlier write anyway, so the thread hop costs them nothing). Starts the
   * worker when it is wanted; false until it is ready.
   */
  wantsWorker(size: number, streaming: boolean): boolean
  /** Signs drafts on this thread, after `tip`. */
  sign(tip: ChainTip, drafts: EventDraft[]): SignedDraft[]
  /**
   * Posts drafts to the worker, which signs them after `tip` when given, else right after the drafts posted
   * before (the chain continues in the worker, so the next drafts need not wait for these). In posting order.
   */
  post(drafts: EventDraft[], tip?: ChainTip): Promise<SignedDraft[]>
  /** Starts the worker now and resolves once it can sign. */
  warm(): Promise<void>
  close(): Promise<void>
}

// A worker round trip costs about as much as signing a few events; an idle log signs fewer than this inline.
const WORKER_FROM = 24

/**
 * Signing follows the chain (each event names the CID of the one before, which covers its signature), so it
 * cannot be spread over cores; it can leave the main thread, though. Drafts stream to a worker in slices: it
 * signs slice n while the main thread encodes slice n + 1 and turns slice n − 1 into Level writes. A lone
 * awaited append is signed inline, where a thread hop would only add latency.
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
    w.on('message', (msg: { id: number; packed: PackedSigned } | 'ready') => {
      if (msg === 'ready') {
        ready = true
        for (const resolve of onReady.splice(0)) resolve()
        return
      }
      const job = waiting.get(msg.id)
      waiting.delete(msg.id)
      job?.resolve(unpackSigned(msg.packed))
    })
    // A worker that fails or exits takes its jobs with it: they are rejected, never left waiting.
    w.on('error', (err) => stopped(w, new VsdbError('WRITE_FAILED', `the signing worker failed: ${err.message}`, {}, { cause: err })))
    w.on('messageerror', (err) => stopped(w, new VsdbError('WRITE_FAILED', `the signing worker sent a bad message: ${err.message}`)))
    w.on('exit', (code) => stopped(w, new VsdbError('WRITE_FAILED', `the signing worker exited (code ${code})`)))
    return w
  }

  function stopped(w: Worker, err: VsdbError): void {
    if (worker === w) {
      worker = null
      ready = false
    }
    for (const job of waiting.values()) job.reject(err)
    waiting.clear()
    for (const resolve of onReady.splice(0)) resolve()
  }

  return {
    wantsWorker(size, streaming) {
      if (size < WORKER_FROM && !streaming) return false
      worker ??= start()
      return ready
    },
    sign(tip, drafts) {
      return signDrafts(signer.node, signer.sign, tip, drafts)
    },
    post(drafts, tip) {
      const target = worker
      if (target === null || !ready) return Promise.reject(new Error('the signing worker is not running'))
      const id = nextId++
      const reset = tip === undefined ? {} : { head: tip === null ? null : { seq: tip.seq, cid: tip.cid.bytes } }
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject })
        const packed = packDrafts(drafts)
        target.postMessage({ id, packed, ...reset }, [packed.payloads.buffer])
      })
    },
    warm() {
      worker ??= start()
      if (ready) return Promise.resolve()
      return new Promise((resolve) => onReady.push(resolve))
    },
    async close() {
      const w = worker
      await w?.terminate()
      if (w !== null) stopped(w, new VsdbError('CLOSED', 'the log is closed'))
    },
  }
}

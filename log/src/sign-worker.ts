import { createPrivateKey, sign } from 'node:crypto'
import { parentPort, workerData } from 'node:worker_threads'
import { CID } from 'multiformats/cid'
import { type EventDraft, signDrafts } from './assemble.ts'

interface Init {
  node: string
  jwk: { kty: 'OKP'; crv: 'Ed25519'; d: string; x: string }
}

interface Job {
  id: number
  head: { seq: number; cid: Uint8Array } | null
  drafts: EventDraft[]
}

const { node, jwk } = workerData as Init
const key = createPrivateKey({ key: jwk, format: 'jwk' })
const signer = (bytes: Uint8Array) => sign(null, bytes, key)

parentPort?.on('message', (job: Job) => {
  const head = job.head === null ? null : { seq: job.head.seq, cid: CID.decode(job.head.cid) }
  const signed = signDrafts(node, signer, head, job.drafts)
  parentPort?.postMessage({ id: job.id, signed: signed.map((s) => ({ bytes: s.bytes, cid: s.cid.bytes, sig: s.sig })) })
})

import { createPrivateKey, sign } from 'node:crypto'
import { parentPort, workerData } from 'node:worker_threads'
import { CID } from 'multiformats/cid'
import { type EventDraft, packSigned, signDrafts } from './assemble.ts'

interface Init {
  node: string
  jwk: { kty: 'OKP'; crv: 'Ed25519'; d: string; x: string }
}

/** A slice of a run; the first slice of a run says where the chain stands (`head`), the rest continue it. */
interface Slice {
  id: number
  head?: { seq: number; cid: Uint8Array } | null
  drafts: EventDraft[]
}

const { node, jwk } = workerData as Init
const key = createPrivateKey({ key: jwk, format: 'jwk' })
const signer = (bytes: Uint8Array) => sign(null, bytes, key)
let last: { seq: number; cid: CID } | null = null

parentPort?.on('message', (slice: Slice) => {
  if (slice.head !== undefined) last = slice.head === null ? null : { seq: slice.head.seq, cid: CID.decode(slice.head.cid) }
  const signed = signDrafts(node, signer, last, slice.drafts)
  const tail = signed.at(-1)
  if (tail !== undefined) last = { seq: (last?.seq ?? -1) + signed.length, cid: tail.cid }
  const packed = packSigned(signed)
  parentPort?.postMessage({ id: slice.id, packed }, [packed.data.buffer])
})
parentPort?.postMessage('ready')

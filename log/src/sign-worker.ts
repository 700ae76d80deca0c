import { createPrivateKey, sign } from 'node:crypto'
import { parentPort, workerData } from 'node:worker_threads'
import { CID } from 'multiformats/cid'
import { type PackedDrafts, packSigned, signDrafts, unpackDrafts } from './assemble.ts'

interface Init {
  node: string
  jwk: { kty: 'OKP'; crv: 'Ed25519'; d: string; x: string }
}

/** Drafts to sign: after `head` when it is given (the chain restarts there), else right after the slice before. */
interface Slice {
  id: number
  head?: { seq: number; cid: Uint8Array } | null
  packed: PackedDrafts
}

const { node, jwk } = workerData as Init
const key = createPrivateKey({ key: jwk, format: 'jwk' })
const signer = (bytes: Uint8Array) => sign(null, bytes, key)
let last: { seq: number; cid: CID } | null = null

parentPort?.on('message', (slice: Slice) => {
  if (slice.head !== undefined) last = slice.head === null ? null : { seq: slice.head.seq, cid: CID.decode(slice.head.cid) }
  const signed = signDrafts(node, signer, last, unpackDrafts(slice.packed))
  const tail = signed.at(-1)
  if (tail !== undefined) last = { seq: (last?.seq ?? -1) + signed.length, cid: tail.cid }
  const packed = packSigned(signed)
  parentPort?.postMessage({ id: slice.id, packed }, [packed.data.buffer])
})
parentPort?.postMessage('ready')

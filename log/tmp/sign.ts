import { createHash, createPrivateKey, generateKeyPairSync, sign } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'

const msg = new Uint8Array(260).fill(3)
const { privateKey } = generateKeyPairSync('ed25519')
const N = 20000
const time = (name: string, f: () => unknown) => {
  for (let i = 0; i < 2000; i++) f()
  const t = performance.now()
  for (let i = 0; i < N; i++) f()
  console.log(name.padEnd(30), (((performance.now() - t) * 1000) / N).toFixed(2), 'µs')
}
time('generated KeyObject', () => sign(null, msg, privateKey))
const lk = await generateKeyPair('Ed25519')
const jwk = createPrivateKey({
  key: {
    kty: 'OKP',
    crv: 'Ed25519',
    d: Buffer.from(lk.raw.subarray(0, 32)).toString('base64url'),
    x: Buffer.from(lk.publicKey.raw).toString('base64url'),
  },
  format: 'jwk',
})
time('jwk KeyObject', () => sign(null, msg, jwk))
const der = createPrivateKey({
  key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), lk.raw.subarray(0, 32)]),
  format: 'der',
  type: 'pkcs8',
})
time('der KeyObject', () => sign(null, msg, der))
time('libp2p sign', () => lk.sign(msg))
time('sha256', () => createHash('sha256').update(msg).digest())

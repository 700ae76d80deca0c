import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto'
import { chmod, readFile, writeFile } from 'node:fs/promises'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { VsdbError } from './errors.ts'

export interface Signer {
  /** The libp2p PeerId of the key, as a string: the `node` field of every event it signs. */
  readonly node: string
  readonly privateKey: Ed25519PrivateKey
  /** The key as a JWK, for a signing worker thread in the same process. */
  readonly jwk: { kty: 'OKP'; crv: 'Ed25519'; d: string; x: string }
  sign(bytes: Uint8Array): Uint8Array
}

// node:crypto signs with a KeyObject built once; @libp2p/crypto rebuilds one per call, ~2× slower.
function toJwk(key: Ed25519PrivateKey): Signer['jwk'] {
  return {
    kty: 'OKP',
    crv: 'Ed25519',
    d: Buffer.from(key.raw.subarray(0, 32)).toString('base64url'),
    x: Buffer.from(key.publicKey.raw).toString('base64url'),
  }
}

export function createSigner(privateKey: Ed25519PrivateKey): Signer {
  const jwk = toJwk(privateKey)
  // Built at the first signature on this thread: an open that only reads (and most signing is in the worker) skips it.
  let keyObject: KeyObject | undefined
  return {
    node: peerIdFromPrivateKey(privateKey).toString(),
    privateKey,
    jwk,
    sign: (bytes) => {
      keyObject ??= createPrivateKey({ key: jwk, format: 'jwk' })
      return sign(null, bytes, keyObject)
    },
  }
}

export async function generateSigner(): Promise<Signer> {
  return createSigner(await generateKeyPair('Ed25519'))
}

export async function writeKeyFile(path: string, signer: Signer): Promise<void> {
  await writeFile(path, privateKeyToProtobuf(signer.privateKey), { mode: 0o600, flag: 'wx' })
  await chmod(path, 0o600)
}

export async function readKeyFile(path: string): Promise<Signer> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (err) {
    throw new VsdbError('NOT_INITIALIZED', `no node key at ${path}: run \`vsdb init\` first`, { path }, { cause: err })
  }
  const key = privateKeyFromProtobuf(bytes)
  if (key.type !== 'Ed25519') throw new VsdbError('INVALID_INPUT', `node key at ${path} is not Ed25519`, { path })
  return createSigner(key)
}

const publicKeys = new Map<string, KeyObject>()

/** The Ed25519 public key inside a PeerId string: events carry their author, so no lookup is needed. */
export function publicKeyOf(node: string): KeyObject {
  let keyObject = publicKeys.get(node)
  if (keyObject === undefined) {
    let raw: Uint8Array
    try {
      const peerId = peerIdFromString(node)
      if (peerId.type !== 'Ed25519') throw new Error(`a ${peerId.type} PeerId`)
      raw = peerId.publicKey.raw
    } catch (err) {
      throw new VsdbError('INVALID_EVENT', `node ${node} is not an Ed25519 PeerId`, { node }, { cause: err })
    }
    keyObject = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') },
      format: 'jwk',
    })
    if (publicKeys.size > 10_000) publicKeys.clear()
    publicKeys.set(node, keyObject)
  }
  return keyObject
}

export function verifySignature(node: string, bytes: Uint8Array, sig: Uint8Array): boolean {
  return verify(null, bytes, publicKeyOf(node), sig)
}

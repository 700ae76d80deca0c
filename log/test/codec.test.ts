import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { describe, expect, it } from 'vitest'
import { cidFor, decodeEvent, encodeBlock, encodeUnsigned, signEvent, spliceSignature } from '../src/codec.ts'
import { generateSigner, verifySignature } from '../src/keys.ts'

describe('event encoding', () => {
  it('splicing the signature gives the same bytes as encoding the signed map', async () => {
    const signer = await generateSigner()
    const prev = encodeBlock({ x: 1 }).cid
    // Integers of every CBOR width in ts and seq, negative ts included.
    const values = [0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Date.now(), -1, -1_000_000_000_000]
    for (const ts of values) {
      for (const seq of values.filter((v) => v >= 0)) {
        const unsigned = {
          v: 1 as const,
          type: 'trust' as const,
          node: signer.node,
          seq,
          ts,
          prev: seq === 0 ? null : prev,
          payload: { peer: 'p', score: 0.25, uptime: 1, integrity: 0, consistency: 0.5 },
        }
        const signed = signEvent(unsigned, signer.sign)
        expect(Buffer.from(signed.bytes).equals(dagCbor.encode({ ...unsigned, sig: signed.event.sig }))).toBe(true)
        expect(signed.cid.equals(cidFor(signed.bytes))).toBe(true)
        expect(verifySignature(signer.node, encodeUnsigned(unsigned), signed.event.sig)).toBe(true)
      }
    }
  })

  it('refuses to splice into something that is not an unsigned event', () => {
    expect(() => spliceSignature(dagCbor.encode({ a: 1 }), new Uint8Array(64))).toThrow(/v: 1/)
  })

  it('decodes its own events and rejects non-canonical, unknown-type and bad-payload blocks', async () => {
    const signer = await generateSigner()
    const unsigned = {
      v: 1 as const,
      type: 'trust' as const,
      node: signer.node,
      seq: 0,
      ts: 1,
      prev: null,
      payload: { peer: 'p', score: 0.5, uptime: 1, integrity: 1, consistency: 1 },
    }
    const { bytes, cid } = signEvent(unsigned, signer.sign)
    expect(decodeEvent(cid, bytes).payload).toEqual(unsigned.payload)

    // The same map with its keys in insertion order (not DAG-CBOR's) hashes differently and is refused.
    const loose = Buffer.concat([
      Buffer.from([0xa8]),
      Buffer.from(dagCbor.encode({ payload: unsigned.payload })).subarray(1),
      Buffer.from(
        dagCbor.encode({
          v: 1,
          ts: 1,
          seq: 0,
          sig: signEvent(unsigned, signer.sign).event.sig,
          node: signer.node,
          prev: null,
          type: 'trust',
        }),
      ).subarray(1),
    ])
    expect(() => decodeEvent(cidFor(loose), loose)).toThrow(/canonical/)

    const unknown = dagCbor.encode({ ...unsigned, type: 'bogus', sig: new Uint8Array(64) })
    expect(() => decodeEvent(cidFor(unknown), unknown)).toThrow(/type/)

    const badPayload = dagCbor.encode({ ...unsigned, payload: { ...unsigned.payload, score: 7 }, sig: new Uint8Array(64) })
    expect(() => decodeEvent(cidFor(badPayload), badPayload)).toThrow(/payload\.score/)
  })

  it('addresses blocks by sha2-256 CIDv1 dag-cbor', () => {
    const block = encodeBlock({ hello: 'world' })
    expect(block.cid.version).toBe(1)
    expect(block.cid.code).toBe(0x71)
    expect(block.cid.multihash.code).toBe(0x12)
    expect(CID.parse(block.cid.toString()).equals(block.cid)).toBe(true)
  })
})

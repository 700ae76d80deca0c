import * as dagCbor from '@ipld/dag-cbor'
import * as cborg from 'cborg'
import { base36 } from 'multiformats/bases/base36'
import { CID } from 'multiformats/cid'
import { describe, expect, it } from 'vitest'
import { assembleUnsigned, signDrafts } from '../src/assemble.ts'
import { createChainSigner } from '../src/chain-signer.ts'
import { cidFor, decodeEvent, encodeBlock, encodeUnsigned, RAW, signEvent, spliceSignature } from '../src/codec.ts'
import { generateSigner, verifySignature } from '../src/keys.ts'
import { fastBase36, pinRecords } from '../src/pins.ts'

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

  it('assembles the unsigned event from its parts exactly as encoding the whole map', async () => {
    const signer = await generateSigner()
    const prev = encodeBlock({ x: 1 }).cid
    const payloads = [
      { type: 'trust', payload: { peer: 'p', score: 0.25, uptime: 1, integrity: 0, consistency: 0.5 } },
      { type: 'ingest', payload: { entity: 'émoji-✓', count: 3, dim: 2, from: -5, to: 2 ** 40, batch: prev } },
    ] as const
    for (const { type, payload } of payloads) {
      for (const [seq, ts] of [
        [0, 0],
        [1, -1],
        [70000, Date.now()],
        [2 ** 33, 2 ** 52],
        [23, -24],
        [24, -25],
        [255, -256],
        [256, -257],
        [65535, -65536],
        [65536, -65537],
        [2 ** 32 - 1, -(2 ** 32)],
        [2 ** 32, -(2 ** 32) - 1],
        [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER],
      ] as const) {
        const unsigned = { v: 1 as const, type, node: signer.node, seq, ts, prev: seq === 0 ? null : prev, payload }
        const assembled = assembleUnsigned(signer.node, seq, unsigned.prev, { type, ts, payload: dagCbor.encode(payload) })
        expect(Buffer.from(assembled).equals(encodeUnsigned(unsigned as never))).toBe(true)
      }
    }
  })

  it('signs a chain the same inline and in the worker thread, slice by slice', async () => {
    const signer = await generateSigner()
    const drafts = Array.from({ length: 40 }, (_, i) => ({
      type: 'trust',
      ts: 1000 + i,
      payload: dagCbor.encode({ peer: 'p', score: i / 40, uptime: 1, integrity: 1, consistency: 1 }),
    }))
    const head = { seq: 7, cid: encodeBlock({ head: true }).cid }
    const inline = signDrafts(signer.node, signer.sign, head, drafts)
    const chain = createChainSigner(signer)
    await chain.warm()
    const slices = await Promise.all([
      chain.post(drafts.slice(0, 15), head),
      chain.post(drafts.slice(15, 30)),
      chain.post(drafts.slice(30)),
    ])
    const threaded = slices.flat()
    await chain.close()
    expect(threaded.map((s) => s.cid.toString())).toEqual(inline.map((s) => s.cid.toString()))
    const decoded = decodeEvent(inline[39]!.cid, inline[39]!.bytes)
    expect(decoded).toMatchObject({ seq: 47, ts: 1039, node: signer.node })
    expect(decoded.prev?.equals(inline[38]!.cid)).toBe(true)
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

  it('writes base36 pin keys exactly as multiformats does', () => {
    for (let i = 0; i < 500; i++) {
      const { cid } = encodeBlock({ i })
      expect(fastBase36(cid.bytes)).toBe(cid.toString(base36))
      expect(fastBase36(cid.multihash.bytes)).toBe(base36.encode(cid.multihash.bytes))
    }
    for (let length = 1; length < 70; length++) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i === 0 ? 1 + ((length * 37) % 255) : (i * 131 + length) % 256))
      expect(fastBase36(bytes)).toBe(base36.encode(bytes))
      expect(fastBase36(bytes.fill(255))).toBe(base36.encode(bytes))
    }
    const zeros = Uint8Array.of(0, 0, 7, 255)
    expect(fastBase36(zeros)).toBe(base36.encode(zeros))
  })

  it('writes pin records exactly as cborg encodes them', () => {
    for (const cid of [encodeBlock({ i: 1 }).cid, CID.createV1(RAW, encodeBlock({ i: 2 }).cid.multihash)]) {
      const [, pinnedBy] = pinRecords(cid)
      expect(Buffer.from(pinnedBy!.value).equals(cborg.encode({ pinCount: 1, pinnedBy: [cid.bytes] }))).toBe(true)
    }
  })

  it('addresses blocks by sha2-256 CIDv1 dag-cbor', () => {
    const block = encodeBlock({ hello: 'world' })
    expect(block.cid.version).toBe(1)
    expect(block.cid.code).toBe(0x71)
    expect(block.cid.multihash.code).toBe(0x12)
    expect(CID.parse(block.cid.toString()).equals(block.cid)).toBe(true)
  })
})

import * as dagCbor from '@ipld/dag-cbor'
import { encodeBlock, VsdbError } from '@vsdb/log'
import { describe, expect, it } from 'vitest'
import { decodeBatchBlock, observationBatchBlock } from '../src/ingest.ts'
import type { Observation } from '../src/observations/types.ts'

describe('ingest batch blocks', () => {
  it('pack timestamps and vectors as float64 bytes and read them back exactly (−0, subnormals and extremes too)', () => {
    const values = [0, -0, 1.5, -2.25, 5e-324, -Number.MAX_VALUE, 0.1 + 0.2, 123456.789]
    const rows: Observation[] = values.map((v, i) => ({ entity: 'e', ts: 1_700_000_000_000 + (i % 3) * 1000, vector: [v, -v, i] }))
    const { block, from, to } = observationBatchBlock('e', rows)
    expect(from).toBe(1_700_000_000_000)
    expect(to).toBe(1_700_000_002_000)
    const decoded = dagCbor.decode(block.bytes) as Record<string, unknown>
    expect(decoded.dim).toBe(3)
    expect(decoded.ts).toBeInstanceOf(Uint8Array)
    expect((decoded.values as Uint8Array).length).toBe(values.length * 3 * 8)
    expect(decoded.meta).toBe(null)
    const back = decodeBatchBlock(decoded)
    expect(back.entity).toBe('e')
    expect(back.ts).toEqual(rows.map((r) => r.ts))
    for (const [i, row] of rows.entries()) {
      for (const [d, x] of row.vector.entries()) expect(Object.is(back.vectors[i]?.[d], x)).toBe(true)
    }
  })

  it('keep metadata as before, and are smaller than arrays of CBOR floats', () => {
    const rows: Observation[] = Array.from({ length: 1000 }, (_, i) => ({
      entity: 'e',
      ts: 1_700_000_000_000 + i * 100,
      vector: Array.from({ length: 8 }, (_, d) => Math.sin(i + d) * 100),
      ...(i === 3 ? { meta: { note: 'x' } } : {}),
    }))
    const { block } = observationBatchBlock('e', rows)
    const decoded = dagCbor.decode(block.bytes) as { meta: unknown[] }
    expect(decoded.meta[3]).toEqual({ note: 'x' })
    expect(decoded.meta[0]).toBe(null)
    const arrays = encodeBlock({ entity: 'e', ts: rows.map((r) => r.ts), vectors: rows.map((r) => r.vector), meta: null })
    expect(block.bytes.length).toBeLessThan(arrays.bytes.length)
  })

  it('still read the blocks of old data directories: ts[] and vectors[][]', () => {
    const old = encodeBlock({ entity: 'e', ts: [1, 2], vectors: [[0.5], [-1]], meta: null })
    expect(decodeBatchBlock(dagCbor.decode(old.bytes))).toEqual({ entity: 'e', ts: [1, 2], vectors: [[0.5], [-1]] })
  })

  it('reject a block that holds neither form', () => {
    const eight = new Uint8Array(8)
    for (const value of [
      {},
      { entity: 'e', ts: [1], vectors: [] },
      { entity: 'e', ts: eight, values: eight },
      { entity: 'e', dim: 2, ts: eight, values: eight },
      { entity: 'e', dim: 1, ts: new Uint8Array(7), values: new Uint8Array(7) },
      { entity: 1, dim: 1, ts: eight, values: eight },
    ]) {
      expect(() => decodeBatchBlock(value)).toThrow(VsdbError)
    }
  })
})

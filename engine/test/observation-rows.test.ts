import { describe, expect, it } from 'vitest'
import { type ObservationColumns, parseObservationColumns, parseObservationRows } from '../src/observations/index.ts'
import { seeded } from './seeded.ts'

/** What parsing one row gives: the observation, or the error's message and details. */
function outcome(value: unknown): unknown {
  try {
    return { row: parseObservationRows([value], { entity: 'default', now: Date.UTC(2025, 0, 1) })[0] }
  } catch (err) {
    const e = err as Error & { details?: unknown }
    return { message: e.message, details: e.details }
  }
}

describe('rows checked without the schema', () => {
  it('are taken and refused exactly as the schema takes and refuses them, over random rows', () => {
    const rand = seeded(11)
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)] as T
    const numbers = [0, -0, 1.5, -3, 1e308, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2 ** 53]
    const values = [...numbers, '1', null, undefined, true, {}, []]
    const timestamps = [
      1_700_000_000_000,
      1_700_000_000_000.5,
      -1,
      2 ** 53,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      '2024-01-01T00:00:00Z',
      'x',
      null,
    ]
    const entities = [undefined, 'a', 'truck-7', '', 7, null]
    let plain = 0
    for (let i = 0; i < 3_000; i++) {
      const vector =
        rand() < 0.1
          ? pick([[], 'abc', null, { 0: 1 }, Object.assign(new Array(3), { 0: 1, 2: 3 })])
          : Array.from({ length: 1 + Math.floor(rand() * 4) }, () => (rand() < 0.9 ? rand() * 100 - 50 : pick(values)))
      const row: Record<string, unknown> = { ts: pick(timestamps), vector }
      if (rand() < 0.7) row.entity = pick(entities)
      if (rand() < 0.05) row.extra = 1
      if (rand() < 0.05) delete row.ts
      const inherited = rand() < 0.03
      const value = inherited ? Object.assign(Object.create({ inherited: 1 }), row) : row
      // `meta: undefined` is a key the quick check does not take, so the copy always goes through the schema.
      const throughSchema = inherited
        ? Object.assign(Object.create({ inherited: 1 }), row, { meta: undefined })
        : { ...row, meta: undefined }
      const mine = outcome(value)
      expect(mine, JSON.stringify(row)).toEqual(outcome(throughSchema))
      if ('row' in (mine as object)) plain++
    }
    // Both sides were exercised: rows taken, rows refused.
    expect(plain).toBeGreaterThan(200)
    expect(plain).toBeLessThan(2_700)
  })

  it('leaves to the schema what it reads otherwise: a hidden or inherited meta, odd arrays, values that change when read', () => {
    const hidden = Object.defineProperty({ entity: 'a', ts: 1_700_000_000_000, vector: [1] }, 'meta', {
      value: { k: 1 },
      enumerable: false,
    })
    class WithMeta {
      entity = 'a'
      ts = 1_700_000_000_000
      vector = [1]
      get meta(): unknown {
        return { k: [1] }
      }
    }
    class Vector extends Array<number> {}
    let reads = 0
    const changing = new Proxy([1, 2], { get: (target, key) => (key === '0' && reads++ > 0 ? Number.NaN : Reflect.get(target, key)) })
    // A meta the keys do not show is read as the schema reads it: kept when it is one, refused when it is not.
    expect(outcome(hidden)).toMatchObject({ row: { entity: 'a', meta: { k: 1 } } })
    expect(outcome(new WithMeta())).toMatchObject({ details: { field: 'meta.k' } })
    // An array subclass's values are copied into a plain array, as the schema copies them.
    const [row] = parseObservationRows([{ ts: 1_700_000_000_000, vector: Vector.from([1, 2]) }], { entity: 'a' })
    expect(row?.vector).toEqual([1, 2])
    expect(row?.vector.constructor).toBe(Array)
    // Each value is read once: what is kept is what was checked (a second read of this vector gives NaN).
    reads = 0
    expect(outcome({ entity: 'a', ts: 1_700_000_000_000, vector: changing })).toMatchObject({ row: { vector: [1, 2] } })
  })

  it('keeps no array of the caller’s: a vector changed after the call leaves the row as it was', () => {
    const vector = [1, 2, 3]
    const [row] = parseObservationRows([{ entity: 'a', ts: 1_700_000_000_000, vector }])
    vector[0] = 99
    expect(row?.vector).toEqual([1, 2, 3])
  })

  it('columns are taken and refused exactly as the same rows are, over random batches', () => {
    const rand = seeded(23)
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)] as T
    const now = Date.UTC(2025, 0, 1)
    const timestamps = [1_700_000_000_000, 1_700_000_000_000.5, -1, -0, 2 ** 53, Number.NaN, now + 86_400_001, now + 86_400_000]
    const odd = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 1e308]
    let taken = 0
    for (let batch = 0; batch < 400; batch++) {
      const entities = rand() < 0.3 ? ['', 'a'] : ['a', 'b']
      const dims = entities.map(() => 1 + Math.floor(rand() * 3))
      const count = 1 + Math.floor(rand() * 6)
      const rowEntity = Uint32Array.from({ length: count }, () => Math.floor(rand() * entities.length))
      const ts = Float64Array.from({ length: count }, (_, i) => (rand() < 0.15 ? pick(timestamps) : 1_700_000_000_000 + i))
      const values = Float64Array.from({ length: Array.from(rowEntity).reduce((n, e) => n + (dims[e] as number), 0) }, () =>
        rand() < 0.03 ? pick(odd) : rand() * 10,
      )
      const columns: ObservationColumns = { entities, dims, rowEntity, ts, values }
      // Rows as a caller would give them, from the same columns.
      let at = 0
      const rows = Array.from(ts, (t, i) => {
        const e = rowEntity[i] as number
        const dim = dims[e] as number
        const vector = Array.from(values.subarray(at, at + dim))
        at += dim
        const name = entities[e] as string
        return name === '' ? { ts: t, vector } : { entity: name, ts: t, vector }
      })
      const seed = rand()
      const attempt = (parse: () => unknown) => {
        try {
          return { rows: parse() }
        } catch (err) {
          const e = err as Error & { details?: unknown }
          return { message: e.message, details: e.details }
        }
      }
      // The same options for both: drawn once, rebuilt twice (the known dimensions are changed by a parse).
      const draw = (): { now: number; entity?: string; knownDimensions: Map<string, number> } => {
        const saved = seeded(Math.floor(seed * 1e9))
        return { now, ...(saved() < 0.5 ? { entity: 'c' } : {}), knownDimensions: new Map<string, number>(saved() < 0.3 ? [['a', 2]] : []) }
      }
      const mine = attempt(() => parseObservationColumns(columns, draw()))
      expect(mine, JSON.stringify({ entities, dims, rows })).toEqual(attempt(() => parseObservationRows(rows, draw())))
      if ('rows' in mine) taken++
    }
    expect(taken).toBeGreaterThan(40)
    expect(taken).toBeLessThan(360)
  })

  it('takes columns as rows when now is not a number (neither checks a range then)', () => {
    const columns: ObservationColumns = {
      entities: ['a'],
      dims: [1],
      rowEntity: Uint32Array.of(0),
      ts: Float64Array.of(5),
      values: Float64Array.of(1),
    }
    expect(parseObservationColumns(columns, { now: Number.NaN })).toEqual(
      parseObservationRows([{ entity: 'a', ts: 5, vector: [1] }], { now: Number.NaN }),
    )
  })

  it('refuses columns that do not add up, naming what they must be', () => {
    const base = {
      entities: ['a'],
      dims: [2],
      rowEntity: Uint32Array.of(0),
      ts: Float64Array.of(1_700_000_000_000),
      values: Float64Array.of(1, 2),
    }
    expect(parseObservationColumns(base, { now: Date.UTC(2025, 0, 1) })).toEqual([{ entity: 'a', ts: 1_700_000_000_000, vector: [1, 2] }])
    for (const bad of [
      { values: Float64Array.of(1) },
      { dims: [0] },
      { rowEntity: Uint32Array.of(1) },
      { dims: [2, 1] },
      { entities: [7 as unknown as string] },
    ]) {
      expect(() => parseObservationColumns({ ...base, ...bad })).toThrow('the columns do not add up')
    }
  })
})

/** The codec's building blocks on their own: the range coder, the universal codes, float bits, decimals, predictors. */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { candidateExponents, digitsOf, restore, scaleColumn } from '../src/codec/decimal.ts'
import { expNeg, POW10, pow2, sqrt } from '../src/codec/exact-math.ts'
import { addUlps, ulpDistance } from '../src/codec/float-bits.ts'
import { ALPHAS, IntStream, priceResiduals } from '../src/codec/int-coder.ts'
import { newIntProbs } from '../src/codec/int-prior.ts'
import { PREDICTORS, reconstruct, residuals } from '../src/codec/predict.ts'
import { quantizeColumn, reconstructValue, stepFor } from '../src/codec/quantize.ts'
import { CostMeter, cloneProbs, newProbs, RangeDecoder, RangeEncoder } from '../src/codec/range-coder.ts'
import { getRound, getSignedWide, getSmall, getWide, putRound, putSignedWide, putSmall, putWide } from '../src/codec/universal.ts'
import { seeded as prng } from './seeded.ts'

type Op = { kind: 'bit'; ctx: number; bit: number } | { kind: 'direct'; count: number; value: number }

/** The decoder for what `enc` coded. */
function decoderFor(enc: RangeEncoder): RangeDecoder {
  const { bytes, pad } = enc.finish()
  return new RangeDecoder(bytes, 0, pad)
}

describe('range coder', () => {
  it('fuzz: any mix of adaptive bits and direct fields decodes to what was coded, and reads every byte', { timeout: 120_000 }, () => {
    const r = prng(1)
    for (let trial = 0; trial < 3000; trial++) {
      const ops: Op[] = []
      const length = Math.floor(r() * (trial % 20 === 0 ? 5000 : 60))
      const skew = r()
      for (let i = 0; i < length; i++) {
        if (r() < 0.7) {
          const ctx = Math.floor(r() * 4)
          ops.push({ kind: 'bit', ctx, bit: r() < (ctx === 0 ? 0.999 : skew) ? 1 : 0 })
        } else {
          const count = Math.floor(r() * 54)
          ops.push({ kind: 'direct', count, value: Math.floor(r() * 2 ** count) })
        }
      }
      const enc = new RangeEncoder(2)
      const probs = newProbs(4)
      for (const op of ops) op.kind === 'bit' ? enc.bit(probs, op.ctx, op.bit) : enc.direct(op.value, op.count)
      const { bytes, pad } = enc.finish(1)
      const dec = new RangeDecoder(bytes, 1, pad)
      const back = newProbs(4)
      for (const op of ops) {
        if (op.kind === 'bit') expect(dec.bit(back, op.ctx)).toBe(op.bit)
        else expect(dec.direct(op.count)).toBe(op.value)
      }
      dec.end()
    }
  })

  it('spends close to the information content: a skewed source costs what the cost meter says', () => {
    const r = prng(2)
    const enc = new RangeEncoder()
    const meter = new CostMeter()
    const a = newProbs(1)
    const b = newProbs(1)
    for (let i = 0; i < 100_000; i++) {
      const bit = r() < 0.05 ? 1 : 0
      enc.bit(a, 0, bit)
      meter.bit(b, 0, bit)
    }
    const bytes = enc.finish().bytes.length
    expect(bytes * 8).toBeLessThan(meter.bits * 1.001 + 40)
    // H(0.05) = 0.286 bits; an adaptive estimate that keeps tracking pays a few per cent for its agility.
    expect(meter.bits / 100_000).toBeLessThan(0.31)
  })

  it('ends in at most one byte more than the bits it holds', () => {
    for (const bits of [0, 1, 7, 8, 9, 30, 100]) {
      const enc = new RangeEncoder()
      for (let i = 0; i < bits; i++) enc.direct(1, 1)
      expect(enc.finish().bytes.length).toBeLessThanOrEqual(Math.ceil(bits / 8) + 1)
    }
  })
})

describe('integer residual coder', () => {
  it('fuzz: residuals of every scale, through shared contexts, decode exactly', { timeout: 120_000 }, () => {
    const r = prng(4)
    for (let trial = 0; trial < 200; trial++) {
      const scale = 2 ** Math.floor(r() * 53)
      const values = Array.from({ length: 1 + Math.floor(r() * 300) }, () => {
        const v = Math.floor(r() * r() * scale)
        return r() < 0.3 || v === 0 ? 0 : r() < 0.5 ? -v : v
      })
      const bucket = Math.floor(r() * 30)
      const alpha = r() < 0.5 ? 0.25 : 0
      const enc = new RangeEncoder()
      const probs = newIntProbs(trial % 2)
      const stream = new IntStream(bucket, alpha)
      for (const v of values) stream.encode(enc, probs, v)
      const dec = decoderFor(enc)
      const back = newIntProbs(trial % 2)
      const decoder = new IntStream(bucket, alpha)
      for (const v of values) expect(decoder.decode(dec, back)).toBe(v)
    }
  })

  it('prices a stream as the cost meter counts its coding, at every activity speed, and leaves the contexts alone', () => {
    const r = prng(9)
    for (let trial = 0; trial < 300; trial++) {
      // Long runs of zeros (priced a run at a time) between residuals of every size.
      const values = new Float64Array(1 + Math.floor(r() * 300))
      for (let i = 0; i < values.length; i++) {
        if (r() < 0.7) continue
        const v = Math.floor(r() * r() * 2 ** Math.floor(r() * 40))
        values[i] = r() < 0.5 ? -v : v
      }
      const bucket = Math.floor(r() * 30)
      const alpha = ALPHAS[trial % ALPHAS.length] as number
      const probs = newIntProbs(trial % 2)
      // Contexts already used by an earlier stream, as the encoder's are when it prices the next dimension.
      const warm = new IntStream(Math.floor(r() * 10), alpha)
      for (let i = 0; i < 50; i++) warm.encode(new CostMeter(), probs, Math.floor(r() * 5) - 2)
      const before = cloneProbs(probs)
      const priced = priceResiduals(probs, values, 0, values.length, bucket, alpha)
      expect(probs.p.every((x, i) => x === before.p[i]) && probs.n.every((x, i) => x === before.n[i])).toBe(true)
      const meter = new CostMeter()
      const stream = new IntStream(bucket, alpha)
      for (const v of values) stream.encode(meter, probs, v)
      expect(priced).toBeCloseTo(meter.bits, 6)
    }
  })

  it('codes the extremes: ±(2^53 - 1) and zero', () => {
    const values = [2 ** 53 - 1, -(2 ** 53 - 1), 0, 1, -1, 2 ** 52, -(2 ** 31), 2 ** 31]
    const enc = new RangeEncoder()
    const stream = new IntStream(0)
    const probs = newIntProbs()
    for (const v of values) stream.encode(enc, probs, v)
    const dec = decoderFor(enc)
    const decoder = new IntStream(0)
    const back = newIntProbs()
    for (const v of values) expect(decoder.decode(dec, back)).toBe(v)
  })
})

describe('priors', () => {
  it('are the same tables on every engine (built from exactly specified arithmetic only)', () => {
    const digest = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')
    const heavy = newIntProbs(0)
    const laplace = newIntProbs(1)
    expect(digest(new Uint8Array(heavy.p.buffer))).toBe('e285539a33063e88ad2439b2e0bb615d2ab94a4675c92ce4d5c96dcdb02262dd')
    expect(digest(new Uint8Array(laplace.p.buffer))).toBe('33c7723e486b69e434d5e58ade354bf02478ca02a527e24afb1d12f3cb46dd95')
    expect(digest(heavy.n)).toBe('0561e6b19a2a1fe7eec0f3b02f5766d3398ef3fe53db08158b98124b29820d92')
  })

  it('exact math: powers of two and ten exact, square root and exp accurate', () => {
    for (let k = -1074; k <= 1023; k += 7) expect(pow2(k)).toBe(2 ** k)
    expect(POW10[22]).toBe(1e22)
    for (const x of [0, 1e-300, 0.5, 2, 3, 1e10, 1e300]) expect(Math.abs(sqrt(x) - Math.sqrt(x))).toBeLessThanOrEqual(Math.sqrt(x) * 4e-16)
    for (const x of [0, 1e-9, 0.3, 1, 10, 100, 700]) expect(Math.abs(expNeg(x) - Math.exp(-x))).toBeLessThanOrEqual(Math.exp(-x) * 1e-14)
  })
})

describe('universal codes', () => {
  it('round-trip wide, signed, small and round integers', () => {
    const values = [0, 1, 2, 3, 7, 8, 255, 256, 300_000, 3_600_000, 20, 1e15, 2 ** 53 - 1]
    const enc = new RangeEncoder()
    for (const v of values) {
      putWide(enc, v)
      putSignedWide(enc, -v)
      putSmall(enc, v % 100_000)
      putRound(enc, v)
    }
    const dec = decoderFor(enc)
    for (const v of values) {
      expect(getWide(dec)).toBe(v)
      expect(getSignedWide(dec)).toBe(-v + 0)
      expect(getSmall(dec, 100_000)).toBe(v % 100_000)
      expect(getRound(dec)).toBe(v)
    }
  })
})

describe('float bits', () => {
  it('ulp distances invert, across zero and between signed zeros', () => {
    const r = prng(6)
    const pairs: [number, number][] = [
      [0, -0],
      [-0, 0],
      [5e-324, -5e-324],
      [1, 1 + 2 ** -52],
      [74.93588199999998, 74.935882],
      [-2.5, -2.5000000000000004],
      [Number.MAX_VALUE, 1.7976931348623155e308],
    ]
    for (let i = 0; i < 1000; i++) {
      const x = (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20)
      pairs.push([x, x * (1 + (r() - 0.5) * 1e-13)])
    }
    for (const [x, y] of pairs) {
      const c = ulpDistance(x, y)
      expect(Number.isNaN(c)).toBe(false)
      expect(Object.is(addUlps(y, c), x)).toBe(true)
    }
    expect(ulpDistance(-0, 0)).toBe(-1)
    expect(Number.isNaN(ulpDistance(1, 2))).toBe(true)
    expect(Number.isNaN(addUlps(Number.MAX_VALUE, 1))).toBe(true)
  })
})

describe('decimals', () => {
  it('finds the digits a value was written with', () => {
    expect(digitsOf(74.935882)).toBe(6)
    expect(digitsOf(10844)).toBe(0)
    expect(digitsOf(0.1 + 0.2)).toBeGreaterThan(22) // 17 digits do not fit in 2^50: not a short decimal
    expect(digitsOf(13.56, 5)).toBe(2)
    expect(candidateExponents([1200, 3400, 100])).toEqual([-2])
    expect(candidateExponents([1.5, 2.25, 3])[0]).toBe(2)
  })

  it('restores values off the decimal grid through their ulp corrections', () => {
    const values = [74.93588199999998, 74.935882, -0, 0.30000000000000004, 13.56]
    const scaled = scaleColumn(values, 6, new Float64Array(5), new Float64Array(5))!
    expect(scaled.corrected).toBe(true)
    values.forEach((x, i) => {
      expect(Object.is(restore(scaled.m[i]!, 6, scaled.c[i]!), x)).toBe(true)
    })
  })
})

describe('predictors', () => {
  it('reconstruct exactly what they predict from, for every predictor', () => {
    const r = prng(8)
    for (const predictor of PREDICTORS) {
      for (const scale of [1, 1000, 2 ** 49]) {
        const v = Float64Array.from({ length: 100 }, () => Math.round((r() - 0.5) * scale) + 0)
        const res = new Float64Array(100)
        const anchor = residuals(predictor, v, res)
        reconstruct(predictor, anchor, res)
        expect(Array.from(res)).toEqual(Array.from(v))
      }
    }
  })
})

describe('quantiser', () => {
  it('steps at most 2e, within 0.4 %, for bounds of any size', () => {
    for (const e of [1e-290, 1e-9, 0.01, 1, 3.7, 1e9, 1e300, Number.MAX_VALUE]) {
      const step = stepFor(e)!
      expect(step.step).toBeLessThanOrEqual(2 * e)
      expect(step.step).toBeGreaterThan(Math.min(2 * e, Number.MAX_VALUE) * 0.996)
    }
    expect(stepFor(1e-300)).toBeNull()
  })

  it('keeps every value within the bound, on every grid shift', () => {
    const r = prng(10)
    const e = 0.37
    const step = stepFor(e)!.step
    const column = Array.from({ length: 1000 }, () => (r() - 0.5) * 1e4)
    const q = new Float64Array(column.length)
    for (let offset = 0; offset < 8; offset++) {
      expect(quantizeColumn(column, e, step, offset, q)).toBe(true)
      column.forEach((x, i) => {
        expect(Math.abs(x - reconstructValue(q[i]!, offset, step))).toBeLessThanOrEqual(e)
      })
    }
  })
})

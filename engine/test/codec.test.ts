import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isVsdbError, VsdbError } from '@vsdb/log'
import { describe, expect, it } from 'vitest'
import {
  codecOf,
  createCodecHints,
  decodeSegment,
  type EncodeOptions,
  encodeSegment,
  LOSSLESS_CODEC,
  LOSSY_CODEC,
  MAX_POINTS,
  parseCodecHints,
  type SegmentObservations,
} from '../src/codec/index.ts'
import { RangeEncoder } from '../src/codec/range-coder.ts'
import { putSmall, putWide } from '../src/codec/universal.ts'
import { seeded as prng } from './seeded.ts'

// The shared data set sits beside the repository (../shared), in CI as on a developer's machine.
const NAB = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'data', 'nab')
const SEGMENT = 256
const T0 = Date.UTC(2024, 0, 1)

interface Series {
  name: string
  ts: number[]
  values: number[]
}

function csvFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((f) => {
      const path = join(dir, f)
      return statSync(path).isDirectory() ? csvFiles(path) : f.endsWith('.csv') ? [path] : []
    })
    .sort()
}

/** A NAB series, sorted by time (one file has a row out of order; the engine sorts within its tolerance too). */
function readSeries(path: string): Series {
  const rows = readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [stamp, value] = line.split(',')
      return { t: Date.parse(`${stamp!.replace(' ', 'T')}Z`), x: Number(value) }
    })
    .sort((a, b) => a.t - b.t)
  return { name: relative(NAB, path), ts: rows.map((r) => r.t), values: rows.map((r) => r.x) }
}

const series = csvFiles(NAB).map(readSeries)

function segments(s: Series): SegmentObservations[] {
  const out: SegmentObservations[] = []
  for (let i = 0; i < s.ts.length; i += SEGMENT) {
    out.push({ ts: s.ts.slice(i, i + SEGMENT), vectors: s.values.slice(i, i + SEGMENT).map((x) => [x]) })
  }
  return out
}

function regular(n: number, period = 1000, from = T0): number[] {
  return Array.from({ length: n }, (_, i) => from + i * period)
}

function column(values: number[], ts = regular(values.length)): SegmentObservations {
  return { ts, vectors: values.map((x) => [x]) }
}

function roundTrip(obs: SegmentObservations, options: EncodeOptions): SegmentObservations {
  return decodeSegment(encodeSegment(obs, options))
}

/** Bit-exact equality, -0 and all. */
function expectExact(back: SegmentObservations, obs: SegmentObservations): void {
  expect(back.ts).toEqual(obs.ts)
  expect(back.vectors.length).toBe(obs.vectors.length)
  for (let i = 0; i < obs.vectors.length; i++) {
    const a = obs.vectors[i]!
    const b = back.vectors[i]!
    expect(b.length).toBe(a.length)
    for (let d = 0; d < a.length; d++) {
      if (!Object.is(a[d], b[d])) expect.fail(`value [${i}][${d}]: ${a[d]} came back as ${b[d]}`)
    }
  }
}

/** |x − x̂| ≤ e on every point, the timestamps exact, and exactness where the bound is 0. */
function expectBounded(back: SegmentObservations, obs: SegmentObservations, bounds: readonly number[]): number {
  expect(back.ts).toEqual(obs.ts)
  let worst = 0
  for (let i = 0; i < obs.vectors.length; i++) {
    for (let d = 0; d < bounds.length; d++) {
      const x = obs.vectors[i]![d]!
      const y = back.vectors[i]![d]!
      const e = bounds[d]!
      const err = Math.abs(x - y)
      if (!(err <= e)) expect.fail(`value [${i}][${d}]: ${x} came back as ${y}, error ${err} > bound ${e}`)
      if (e === 0 && !Object.is(x, y)) expect.fail(`value [${i}][${d}] has bound 0 but came back as ${y}, not ${x}`)
      if (e > 0) worst = Math.max(worst, err / e)
    }
  }
  return worst
}

function lossy(errorBound: number[]): EncodeOptions {
  return { codec: LOSSY_CODEC, errorBound }
}

const lossless: EncodeOptions = { codec: LOSSLESS_CODEC }

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[(s.length - 1) >> 1]!
}

function errorOf(fn: () => unknown): VsdbError {
  try {
    fn()
  } catch (err) {
    if (err instanceof VsdbError) return err
    throw err
  }
  throw new Error('expected an error')
}

describe('lossless codec', () => {
  it('round-trips every NAB series bit-exactly, at ≤ 1.0 byte per point (median)', { timeout: 120_000 }, () => {
    expect(series.length).toBeGreaterThan(30)
    const perPoint: number[] = []
    for (const s of series) {
      let bytes = 0
      for (const seg of segments(s)) {
        const block = encodeSegment(seg, lossless)
        bytes += block.length
        expectExact(decodeSegment(block), seg)
      }
      perPoint.push(bytes / s.ts.length)
    }
    expect(median(perPoint)).toBeLessThanOrEqual(1.0)
  })

  it('round-trips floats that are not decimals: random, tiny, huge, subnormal, signed zeros', () => {
    const rnd = prng(7)
    const specials = [0, -0, 5e-324, -5e-324, 2.2250738585072014e-308, Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE]
    const cases: number[][] = [
      Array.from({ length: 256 }, () => rnd()),
      Array.from({ length: 256 }, () => (rnd() - 0.5) * 1e300),
      Array.from({ length: 256 }, () => (rnd() - 0.5) * 1e-300),
      Array.from({ length: 256 }, () => rnd() * 2 ** 60),
      Array.from({ length: 256 }, (_, i) => specials[i % specials.length]!),
      Array.from({ length: 256 }, (_, i) => (i % 2 === 0 ? -0 : 0)),
      Array.from({ length: 256 }, () => -0),
      Array.from({ length: 256 }, (_, i) => 0.1 * i + 0.2), // sums with float artefacts: 0.30000000000000004 …
      Array.from({ length: 256 }, (_, i) => Math.sin(i / 10) * 1e6),
      Array.from({ length: 256 }, (_, i) => (i % 3 === 0 ? 1e300 : i % 3 === 1 ? -1e-300 : 42.5)),
      Array.from({ length: 256 }, () => Math.round((rnd() - 0.5) * 2 ** 53)),
      Array.from({ length: 256 }, () => Math.round(rnd() * 1e6) * 1000), // integers with trailing zeros
    ]
    for (const values of cases) {
      const obs = column(values)
      expectExact(roundTrip(obs, lossless), obs)
    }
  })

  it('round-trips timestamps: irregular, duplicate, negative, far apart, at the limits', () => {
    const rnd = prng(11)
    const jittery: number[] = []
    let t = T0
    for (let i = 0; i < 300; i++) {
      t += Math.floor(rnd() * 5) * 60_000 + (rnd() < 0.1 ? 0 : 60_000)
      jittery.push(t)
    }
    const cases = [
      jittery,
      [T0, T0, T0, T0 + 1, T0 + 1, T0 + 5_000_000_000],
      [-5_000_000, -4_000_000, -3_000_001, 0, 17],
      [-(2 ** 52), 0, 2 ** 52],
      [T0],
      [T0, T0],
      regular(256, 20, T0 + 7), // 50 Hz, not aligned to the period
      regular(256, 300_000, Date.UTC(2014, 3, 1)),
    ]
    for (const ts of cases) {
      const obs = column(
        ts.map((_, i) => i * 0.5),
        ts,
      )
      expectExact(roundTrip(obs, lossless), obs)
    }
  })

  it('round-trips vectors of many dimensions and segments of every size up to a few thousand points', () => {
    const rnd = prng(3)
    for (const [n, dim] of [
      [1, 1],
      [2, 3],
      [3, 64],
      [255, 16],
      [257, 2],
      [3000, 4],
    ] as const) {
      const obs: SegmentObservations = {
        ts: regular(n, 20),
        vectors: Array.from({ length: n }, (_, i) =>
          Array.from({ length: dim }, (_, d) => (d % 3 === 0 ? Math.round(rnd() * 100) / 100 : d % 3 === 1 ? i : rnd() * 10 ** d)),
        ),
      }
      expectExact(roundTrip(obs, lossless), obs)
    }
  })
})

describe('lossy codec', () => {
  it('keeps every NAB point within 1 % and 0.1 % of the range, at ≥ 50× raw (median, 1 %)', { timeout: 120_000 }, () => {
    const ratios: number[] = []
    for (const fraction of [0.01, 0.001]) {
      for (const s of series) {
        const range = Math.max(...s.values) - Math.min(...s.values)
        const bound = fraction * range
        let bytes = 0
        // As a node encodes an entity's segments: with the hints it keeps for the entity.
        const options: EncodeOptions = { codec: LOSSY_CODEC, errorBound: [bound], hints: createCodecHints() }
        for (const seg of segments(s)) {
          const block = encodeSegment(seg, options)
          bytes += block.length
          expectBounded(decodeSegment(block), seg, [bound])
        }
        if (fraction === 0.01) ratios.push((16 * s.ts.length) / bytes)
      }
    }
    expect(median(ratios)).toBeGreaterThanOrEqual(50)
  })

  it('with hints: each block decodes alone, the same start gives the same bytes, and a steady stream searches less often', () => {
    const s = series.find((x) => x.name.endsWith('machine_temperature_system_failure.csv')) as Series
    const range = Math.max(...s.values) - Math.min(...s.values)
    const run = () => {
      const hints = createCodecHints()
      const blocks = segments(s).map((seg) => encodeSegment(seg, { codec: LOSSY_CODEC, errorBound: [0.01 * range], hints }))
      return { hints, blocks }
    }
    const first = run()
    const again = run()
    expect(again.blocks).toEqual(first.blocks)
    segments(s).forEach((seg, i) => {
      expectBounded(decodeSegment(first.blocks[i] as Uint8Array), seg, [0.01 * range])
    })
    const [predictor, bits, age, interval] = first.hints.columns[0] as [number, number, number, number]
    expect(predictor).toBeGreaterThanOrEqual(0)
    expect(bits).toBeGreaterThan(0)
    expect(age).toBeLessThan(interval)
    // The search kept choosing the same predictor somewhere along the series: its interval grew past the least.
    expect(interval).toBeGreaterThan(2)
    const plain = segments(s).reduce((sum, seg) => sum + encodeSegment(seg, lossy([0.01 * range])).length, 0)
    const hinted = first.blocks.reduce((sum, b) => sum + b.length, 0)
    expect(hinted).toBeLessThan(plain * 1.02)
  })

  it('reads hints back from their snapshot, and refuses malformed ones naming the column', () => {
    const hints = createCodecHints()
    for (const seg of segments(series[0] as Series).slice(0, 5)) encodeSegment(seg, { codec: LOSSY_CODEC, errorBound: [0.5], hints })
    expect(parseCodecHints(structuredClone(hints))).toEqual(hints)
    expect(() => parseCodecHints({ columns: [[9, 1, 0, 2]] })).toThrow('codec hints: columns[0]: no predictor 9')
    expect(() => parseCodecHints({ columns: [null, [0, 1, 0, 64]] })).toThrow('codec hints: columns[1]: interval 64')
    expect(() => parseCodecHints({})).toThrow('codec hints: expected {columns: [...]}')
  })

  it('respects the bound on edge cases: constant, huge jumps, tiny and huge bounds, zero bound, extremes', () => {
    const rnd = prng(5)
    const walk: number[] = []
    let x = 0
    for (let i = 0; i < 512; i++) {
      x += (rnd() - 0.5) * 10
      walk.push(x)
    }
    const cases: [number[], number][] = [
      [Array(256).fill(3.14), 0.01], // constant
      [Array(256).fill(3.14), 0], // constant, zero bound
      [walk, 0.5],
      [walk, 0], // zero bound: exact
      [walk, 1e-12], // a bound near the float resolution of the values
      [walk, 1e6], // a bound beyond the range
      [Array.from({ length: 256 }, (_, i) => (i % 50 === 0 ? 1e12 : 0)), 1], // huge jumps
      [Array.from({ length: 256 }, (_, i) => (i % 2 ? 1e300 : -1e300)), 1e298],
      [Array.from({ length: 256 }, (_, i) => (i % 2 ? 1e300 : -1e300)), 1e-10], // bound far below the resolution
      [Array.from({ length: 256 }, () => rnd() * 1e-300), 1e-310], // subnormal bound
      [Array.from({ length: 256 }, () => (rnd() - 0.5) * Number.MAX_VALUE), Number.MAX_VALUE / 4],
      [Array.from({ length: 256 }, () => rnd()), Number.MAX_VALUE],
      [Array.from({ length: 256 }, (_, i) => (i % 2 ? -0 : 0)), 0.5],
      [Array.from({ length: 256 }, (_, i) => Math.round(i / 7)), 0.05], // integers, bound below their spacing
      [Array.from({ length: 256 }, (_, i) => 0.1 * i), 0.05 * (1 + 2 ** -52)], // grid points exactly at the bound
    ]
    for (const [values, bound] of cases) {
      const obs = column(values)
      expectBounded(roundTrip(obs, lossy([bound])), obs, [bound])
    }
  })

  it('bounds each dimension by its own bound, timestamps exact', () => {
    const rnd = prng(9)
    const n = 700
    const bounds = [0.01, 0, 5, 1e-9, 0.3, 100]
    const obs: SegmentObservations = {
      ts: regular(n, 20, T0 + 3),
      vectors: Array.from({ length: n }, (_, i) => [
        Math.sin(i / 30) + rnd() * 0.05,
        Math.round(rnd() * 1000) / 10,
        i * 3.3,
        rnd(),
        i % 100 === 0 ? 1e6 : rnd(),
        -i * 1e4 + rnd() * 50,
      ]),
    }
    expectBounded(roundTrip(obs, lossy(bounds)), obs, bounds)
  })

  it('fuzz: random series, random bounds, every point within its bound', { timeout: 120_000 }, () => {
    const rnd = prng(21)
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(rnd() * 300)
      const scale = 10 ** Math.floor(rnd() * 20 - 10)
      const kind = trial % 4
      let x = (rnd() - 0.5) * scale
      const values = Array.from({ length: n }, () => {
        if (kind === 0) x += (rnd() - 0.5) * scale * 0.01
        else if (kind === 1) x = (rnd() - 0.5) * scale
        else if (kind === 2) x = Math.round(rnd() * 20) * scale
        else x = rnd() < 0.05 ? x + scale * 100 : x
        return x
      })
      const bound = rnd() < 0.1 ? 0 : scale * 10 ** (rnd() * 6 - 5)
      const obs = column(values, regular(n, 1 + Math.floor(rnd() * 1000)))
      expectBounded(roundTrip(obs, lossy([bound])), obs, [bound])
    }
  })
})

describe('block format', () => {
  const rnd = prng(13)
  const sample = column(Array.from({ length: 256 }, (_, i) => Math.round((Math.sin(i / 9) * 40 + rnd() * 3) * 100) / 100))
  const blocks = [encodeSegment(sample, lossless), encodeSegment(sample, lossy([0.2]))]

  it('names its codec in the first byte', () => {
    expect(codecOf(blocks[0]!)).toBe(LOSSLESS_CODEC)
    expect(codecOf(blocks[1]!)).toBe(LOSSY_CODEC)
  })

  it('is deterministic: the same input gives the same bytes, whatever was encoded in between', () => {
    const again = [encodeSegment(sample, lossless), encodeSegment(sample, lossy([0.2]))]
    encodeSegment(column(Array.from({ length: 1000 }, () => rnd() * 1e9)), lossless)
    decodeSegment(encodeSegment(column(Array.from({ length: 99 }, () => rnd())), lossy([0.001])))
    const later = [encodeSegment(sample, lossless), encodeSegment(sample, lossy([0.2]))]
    expect(again).toEqual(blocks)
    expect(later).toEqual(blocks)
  })

  it('is pinned: blocks version 1 wrote still decode to their segment, and the encoder writes what it wrote when pinned', () => {
    // Blocks are an archive: old blocks must decode forever (a format change bumps VERSION). The encoder's
    // choices (predictors, speeds) may improve without a new format; its bytes are pinned too, so that such a
    // change is made on purpose: the shortlist of predictors (int-column.ts) changed them last.
    const ts = Array.from({ length: 40 }, (_, i) => Date.UTC(2024, 0, 1) + i * 60_000 + (i % 7 === 3 ? 1000 : 0))
    const vectors = Array.from({ length: 40 }, (_, i) => [Math.round(Math.sin(i / 5) * 1000) / 100, i % 3 === 0 ? -0 : 0.1 * i, 1e-300 * i])
    const obs = { ts, vectors }
    const written = [
      [
        lossless,
        '4b0c86456121c7de908e023206d8e9ad3d801f680a6a58cfcfbdd0c9ce92ecb83cda746a1c0f7137fa159c96c7c778b180aa' +
          '782d54fd669b24e3036d7ca07bcdafe2e7722bf99271740acd70d0ab83e489252102a2c84ddb3d8cb0fec5382a00ac93e800' +
          '0000000488316dcc4a5b0596a7aca0595b2a88e62d79261793878b2a3571c4850aedd58169be120a3b315f6b0e284f1f3ed4' +
          'c02c27f06002ea9c713a29857fc29f3e402023d69ec829c6d5205526810fa206e205361f0b38eb33d2583fa56b535c0f1431' +
          '3e630c101cbf5765e938a4a7fad117287ce66a37c9f199f828a4b832ea5a88fcd072829b00a142fbde4e61047d6e3b6efc15' +
          '2f8cead818741070ced15dfb01fd594b1797409e033c5fe40e051f37a86d33ddc8e8c0f9b2b59fb8e603f324e631925c264a' +
          'c138f11fb9636bb441d1e8a830952c07bd30cf89ddf8827ce915e79f2da9e411eb266196ab690c96845c87a81fd3d267dd21' +
          'd0bf0c578c0654eb0f9c40',
      ],
      [
        lossy([0.05, 0, 1e-301]),
        '8b0c86456121c7de908e023206d8e9ad3e29ea083ab95d9b54938fa55154c434d99ad049664068cc9000a7e8dc6dbdf2aa8a' +
          '8926a4ad4f3b5785aab67bcca78accda1a05b6f574f5931ee43778edb7614e2affa10f800000000000a0451016074ca02574' +
          'c6ce3f7592ff16f102f0a129d320945676f434f4323611f6647f9f1b836898bfe8774d6ae7ccdbed1854fbadb40ebda36c5d' +
          '48af30b2f549a1c16767d323e486a0e1b38b607e135d6c20666578256ddde5898b174977a0b6647b6c9129e47b1066ba2d33' +
          '45fb6e12bf182f4d18447d23f525927078a851499b1c5933a93ba6f71d692ee4d9990168aed6094516ea06c1be602acd72b2' +
          '509ad7d9b60119778cd2257a56f2bbe1b1cafbdb13b10645bebbeb7410e97e6fd8ada6e775592ad2cb7347f919d467539cff' +
          'fd9bf61e62cdf6b4aeac7fee3a999d9a9e46ccf675d197a5afddd93c0564b11c5b22d44b561ee91befd8140f51acc6c8',
      ],
    ] as const
    const encodedNow = [
      [
        lossless,
        '4c0c86456121c7deb48df91e0d377e59a4e84a3b5e1255efb049e603147d7ef9b8cb7366bec72baa554300352d78d102162d' +
          '2d2c8c75d675d707c5a68e1a9c0f09b52a7191677a61010be8a067600f91b54377987e53b2c8085b0c2ec4f1092771e8ed00' +
          '00000006e43c4c8630d7e6c3e662aeb37c8ba1a4b9a782d0dbad3bdabff5db29b9d13a1fdee0584c16b31df96c191ea58393' +
          '43958c1921b563920178f33324757db91496422b68cde915348249d2a4b5a1e3af6eb6df074f057248d0236fbc267969ce72' +
          'c45bef7fd00ea5ac75ffb7187451070bae4a77ac97a42631cbf8be0dd3d196a1e2edc9e014038e10d7fc5e887a4eab1b9ce0' +
          '416f7598f677f9e34f136a4275be62c80097ffe03243bf41d7b5326e685862bc9974c53ac405b5271f482f1f1619a7ea3278' +
          '26f65379747b1be4ef45d87ce45a493fae6cca8188f1148892d599caeac599dc31cdb689e6f09cd5bad394f0c4aba6dda074' +
          'c78266b0f52d7d6db310',
      ],
      [
        lossy([0.05, 0, 1e-301]),
        '8b0c86456121c7deb48df91e0d377e59a5ea4e0af18b2c489fdab27d435af4db0893daf2f0e0997549f29ac4762594be6ff2' +
          '8f0ae743b531938c1d518828bc7c59dd9cb2bad40599f7381579c7651ce45d3c369083920000000000f3e205c7e013f729fd' +
          '13ab8def646e4181432b5d460aa507feed068961f5db5bd2fb8141eb7a42351254a59e12d3a9e3871d470d9baeadc1eb60ba' +
          '28965fb28f4a7645de83a28a78526d2746908e8f792129d98358c5e9990c8ce8e7c5d9741d885d800d3c59b93287858413a7' +
          'a9e4e4d8c2314e9c0b19786ab235dda15923b8f23be37ebdd8993a4d4e58d931d312e5fca4334b00ec99b12bca5f1be673d4' +
          'a494b11b70348680fd37718e37d5c94002ebb09f7638dd55d2efec52b50553a12790ff5dc4b6c34cc7eaa87d46a2ad2fcb8c' +
          '847288e22bf9f6f315fa3832426e9f0913f0b65e0b3bf99b6eea119c7ab115c635fde8001d01ed24a30a6d209808f9a0',
      ],
    ] as const
    for (const [options, hex] of encodedNow) expect(Buffer.from(encodeSegment(obs, options)).toString('hex')).toBe(hex)
    for (const [options, hex] of [...written, ...encodedNow]) {
      const back = decodeSegment(Uint8Array.from(Buffer.from(hex, 'hex')))
      if (options.codec === LOSSLESS_CODEC) expectExact(back, obs)
      else expectBounded(back, obs, options.errorBound)
    }
  })

  it('throws CORRUPT_BLOCK for every truncation', () => {
    for (const block of blocks) {
      for (let length = 0; length < block.length; length++) {
        const err = errorOf(() => decodeSegment(block.subarray(0, length)))
        expect(err.code).toBe('CORRUPT_BLOCK')
      }
    }
  })

  it('throws CORRUPT_BLOCK for trailing bytes, unknown tags and newer versions', () => {
    for (const block of blocks) {
      const longer = new Uint8Array(block.length + 1)
      longer.set(block)
      longer[block.length] = 7
      expect(errorOf(() => decodeSegment(longer)).code).toBe('CORRUPT_BLOCK')
    }
    const foreign = blocks[0]!.slice()
    foreign[0] = 0xc8
    expect(errorOf(() => decodeSegment(foreign)).message).toMatch(/unknown codec tag 0xc8/)
    const newer = blocks[0]!.slice()
    newer[0] = (1 << 6) | (2 << 3)
    expect(errorOf(() => decodeSegment(newer)).message).toMatch(/format version 2/)
    expect(errorOf(() => decodeSegment(new Uint8Array(0))).code).toBe('CORRUPT_BLOCK')
    expect(errorOf(() => decodeSegment('not bytes' as unknown as Uint8Array)).code).toBe('CORRUPT_BLOCK')
  })

  it('throws CORRUPT_BLOCK (or decodes a well-formed segment) for any damaged byte, never anything else', { timeout: 120_000 }, () => {
    let caught = 0
    let total = 0
    for (const block of blocks) {
      for (let i = 1; i < block.length; i++) {
        for (const flip of [0x01, 0x10, 0x80, 0xff]) {
          const bad = block.slice()
          bad[i]! ^= flip
          total++
          try {
            const back = decodeSegment(bad)
            expect(back.ts.length).toBe(back.vectors.length)
            for (const row of back.vectors) for (const x of row) expect(Number.isFinite(x)).toBe(true)
          } catch (err) {
            if (!isVsdbError(err, 'CORRUPT_BLOCK')) throw err
            caught++
          }
        }
      }
    }
    // The sentinel catches a damaged stream with probability 255/256 unless the damage stays inside raw bits.
    expect(caught / total).toBeGreaterThan(0.9)
  })

  it('fuzz: random bytes after a valid tag throw CORRUPT_BLOCK or decode, quickly', { timeout: 120_000 }, () => {
    const r = prng(17)
    const start = performance.now()
    for (let trial = 0; trial < 3000; trial++) {
      const bytes = Uint8Array.from({ length: 1 + Math.floor(r() * 64) }, () => Math.floor(r() * 256))
      bytes[0] = ((r() < 0.5 ? 1 : 2) << 6) | (1 << 3) | Math.floor(r() * 5)
      try {
        decodeSegment(bytes)
      } catch (err) {
        if (!isVsdbError(err, 'CORRUPT_BLOCK')) throw err
      }
    }
    expect(performance.now() - start).toBeLessThan(10_000)
  })

  it('checks n and dim against the byte length before allocating anything', () => {
    const claim = (n: number, dim: number): Uint8Array => {
      const enc = new RangeEncoder()
      enc.direct(0, 1)
      putWide(enc, n)
      putSmall(enc, dim - 1)
      const { bytes, pad } = enc.finish(1)
      bytes[0] = (1 << 6) | (1 << 3) | pad
      return bytes
    }
    expect(errorOf(() => decodeSegment(claim(MAX_POINTS, 4096))).message).toMatch(/cannot fit/)
    expect(errorOf(() => decodeSegment(claim(60_000, 1000))).message).toMatch(/cannot fit/)
    expect(errorOf(() => decodeSegment(claim(MAX_POINTS + 1, 1))).message).toMatch(/observations/)
    expect(errorOf(() => decodeSegment(claim(0, 1))).message).toMatch(/observations/)
  })
})

describe('input checks', () => {
  const good = column([1, 2, 3])
  const cases: [string, SegmentObservations, EncodeOptions, string][] = [
    ['ts', { ts: [], vectors: [] }, lossless, 'ts'],
    ['vectors', { ts: [1, 2], vectors: [[1]] }, lossless, 'vectors'],
    ['decreasing ts', { ts: [2, 1], vectors: [[1], [1]] }, lossless, 'ts[1]'],
    ['fractional ts', { ts: [1.5], vectors: [[1]] }, lossless, 'ts[0]'],
    ['ts beyond ±2^52', { ts: [2 ** 53 - 1], vectors: [[1]] }, lossless, 'ts[0]'],
    ['NaN', { ts: [1, 2], vectors: [[1], [Number.NaN]] }, lossless, 'vectors[1][0]'],
    ['Infinity', { ts: [1], vectors: [[Number.POSITIVE_INFINITY]] }, lossless, 'vectors[0][0]'],
    ['string', { ts: [1], vectors: [['1' as unknown as number]] }, lossless, 'vectors[0][0]'],
    ['wrong dimension', { ts: [1, 2], vectors: [[1, 2], [1]] }, lossless, 'vectors[1]'],
    ['empty vector', { ts: [1], vectors: [[]] }, lossless, 'vectors[0]'],
    ['no bound', good, { codec: LOSSY_CODEC } as unknown as EncodeOptions, 'errorBound'],
    ['bounds per dimension', good, lossy([0.1, 0.1]), 'errorBound'],
    ['negative bound', good, lossy([-1]), 'errorBound[0]'],
    ['NaN bound', good, lossy([Number.NaN]), 'errorBound[0]'],
    ['infinite bound', good, lossy([Number.POSITIVE_INFINITY]), 'errorBound[0]'],
    ['codec', good, { codec: 'zip' } as unknown as EncodeOptions, 'codec'],
  ]
  for (const [what, obs, options, field] of cases) {
    it(`refuses ${what} with INVALID_INPUT naming ${field}`, () => {
      const err = errorOf(() => encodeSegment(obs, options))
      expect(err.code).toBe('INVALID_INPUT')
      expect(err.details.field).toBe(field)
      expect(err.message).toContain(field)
    })
  }

  it('refuses more points than a segment may hold', () => {
    const n = MAX_POINTS + 1
    const err = errorOf(() => encodeSegment({ ts: regular(n), vectors: Array.from({ length: n }, () => [0]) }, lossless))
    expect(err.details.field).toBe('ts')
  })
})

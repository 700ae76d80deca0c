/**
 * Header fields inside the coded stream, as plain bits: no byte alignment, no framing.
 *   wide:  6 bits of bit length L, then the L - 1 bits below the leading one (any integer below 2^53);
 *   small: exponential-Golomb order 0 (1 bit for 0, 3 bits for 1–2, 5 bits for 3–6 …);
 *   round: a · 10^b as small b then small a — periods people choose (20 ms, 1 s, 5 min = 3·10^5 ms, 1 h)
 *          take 7–16 bits where a wide field takes 11–28.
 */
import { corrupt } from './errors.ts'
import { POW10, pow2 } from './exact-math.ts'
import { floorLog2 } from './int-coder.ts'
import type { BitSink, RangeDecoder } from './range-coder.ts'

export function putWide(sink: BitSink, v: number): void {
  if (v === 0) {
    sink.direct(0, 6)
    return
  }
  const e = floorLog2(v)
  sink.direct(e + 1, 6)
  if (e > 0) sink.direct(v - pow2(e), e)
}

/** Bits putSignedWide writes for v. */
export function signedWideBits(v: number): number {
  return v === 0 ? 6 : 6 + floorLog2(v < 0 ? -v : v) + 1
}

export function getWide(src: RangeDecoder): number {
  const length = src.direct(6)
  if (length === 0) return 0
  if (length > 53) corrupt(`a ${length}-bit field (at most 53)`)
  return pow2(length - 1) + (length > 1 ? src.direct(length - 1) : 0)
}

export function putSignedWide(sink: BitSink, v: number): void {
  putWide(sink, v < 0 ? -v : v)
  if (v !== 0) sink.direct(v < 0 ? 1 : 0, 1)
}

export function getSignedWide(src: RangeDecoder): number {
  const a = getWide(src)
  return a !== 0 && src.direct(1) === 1 ? -a : a
}

export function putSmall(sink: BitSink, v: number): void {
  // Bit by bit exactly as getSmall reads it: direct bits only decode in the chunks they were coded in.
  const e = floorLog2(v + 1)
  for (let i = 0; i < e; i++) sink.direct(0, 1)
  sink.direct(1, 1)
  sink.direct(v + 1 - pow2(e), e)
}

/** Bits putSmall writes for v. */
export function smallBits(v: number): number {
  return 2 * floorLog2(v + 1) + 1
}

export function getSmall(src: RangeDecoder, max: number): number {
  let e = 0
  while (src.direct(1) === 0) {
    if (++e > 53) corrupt('a runaway length prefix')
  }
  const v = pow2(e) + (e > 0 ? src.direct(e) : 0) - 1
  if (v > max) corrupt(`a field of ${v} (at most ${max})`)
  return v
}

/** Zigzag: 0, -1, 1, -2 … → 0, 1, 2, 3 … */
export function zigzag(v: number): number {
  return v < 0 ? -2 * v - 1 : 2 * v
}

export function unzigzag(u: number): number {
  return u % 2 === 1 ? -(u + 1) / 2 : u / 2
}

export function putRound(sink: BitSink, v: number): void {
  let b = 0
  while (b < 22 && v !== 0 && v % POW10[b + 1]! === 0) b++
  putSmall(sink, b)
  putSmall(sink, v / POW10[b]!)
}

export function getRound(src: RangeDecoder): number {
  const b = getSmall(src, 22)
  const v = getSmall(src, Number.MAX_SAFE_INTEGER) * POW10[b]!
  if (!Number.isSafeInteger(v)) corrupt(`a field of ${v} (beyond the safe integers)`)
  return v
}

/**
 * A binary range coder (the LZMA construction: 32-bit range, carry propagated through a cached byte and a run
 * of pending 0xFF bytes) with adaptive bit probabilities, direct (equiprobable) bits, and a cost meter that
 * runs the same models without writing, so an encoder can price alternatives before it commits to one.
 *
 * Termination is minimal: the encoder ends on the value of the final interval with the most trailing zero
 * bits and drops up to four trailing zero bytes; the decoder reads zeros past the end, at most four of them.
 *
 * Probabilities are 16-bit estimates of P(bit = 1) used at 12-bit precision. Each one carries a count: it
 * moves by 1/(count + 1.5) of the error, so a fresh context learns about as fast as a Krichevsky–Trofimov
 * estimator, and settles at 1/(LIMIT + 1.5) so it keeps tracking local statistics.
 */
import { corrupt } from './errors.ts'

const TOP = 0x1000000 // 2^24: renormalise below this
const TWO32 = 0x100000000
const PROB_BITS = 12
const PROB_ONE = 1 << PROB_BITS
/** Where the adaptation rate stops slowing down. */
export const COUNT_LIMIT = Number(process.env.CL ?? 30)
/** Zeros the decoder may read past the end: the flush drops at most this many. */
export const MAX_PAD = 4

/** RATE[c] = 65536 / (c + 1.5), the step of a probability that has seen c bits. */
const RATE = new Uint32Array(COUNT_LIMIT + 1)
for (let c = 0; c <= COUNT_LIMIT; c++) RATE[c] = Math.floor(65536 / (c + 1.5))

/** COST[p] = -log2(p / 4096): bits spent coding an outcome of 12-bit probability p. */
const COST = new Float64Array(PROB_ONE + 1)
for (let p = 1; p <= PROB_ONE; p++) COST[p] = -Math.log2(p / PROB_ONE)

/** A set of adaptive binary contexts: 16-bit P(1) and a count per context. */
export interface Probs {
  p: Uint16Array
  n: Uint8Array
}

export function newProbs(size: number): Probs {
  return { p: new Uint16Array(size).fill(32768), n: new Uint8Array(size) }
}

export function cloneProbs(from: Probs): Probs {
  return { p: from.p.slice(), n: from.n.slice() }
}

export function copyProbs(into: Probs, from: Probs): void {
  into.p.set(from.p)
  into.n.set(from.n)
}

function p12(probs: Probs, i: number): number {
  const p = probs.p[i]! >>> 4
  return p < 1 ? 1 : p > PROB_ONE - 1 ? PROB_ONE - 1 : p
}

function adapt(probs: Probs, i: number, bit: number): void {
  const c = probs.n[i]!
  const p = probs.p[i]!
  const rate = RATE[c]!
  probs.p[i] = bit ? p + (((65536 - p) * rate) >>> 16) : p - ((p * rate) >>> 16)
  if (c < COUNT_LIMIT) probs.n[i] = c + 1
}

/** Where encoders write: the range encoder, or the cost meter that only adds up bits. */
export interface BitSink {
  /** Codes `bit` (0 or 1) with context `i` of `probs`, and adapts it. */
  bit(probs: Probs, i: number, bit: number): void
  /** Codes the low `count` bits of `value` (0 ≤ count ≤ 53) at probability 1/2 each. */
  direct(value: number, count: number): void
}

/** Prices coding without writing: `bits` is the cost so far. The models adapt exactly as they would in the encoder. */
export class CostMeter implements BitSink {
  bits = 0

  bit(probs: Probs, i: number, bit: number): void {
    const p = p12(probs, i)
    this.bits += COST[bit ? p : PROB_ONE - p]!
    adapt(probs, i, bit)
  }

  direct(_value: number, count: number): void {
    this.bits += count
  }
}

export class RangeEncoder implements BitSink {
  #low = 0
  #range = 0xffffffff
  #cache = 0
  #hasCache = false
  #pending = 0
  #out: Uint8Array
  #pos = 0

  constructor(capacity = 256) {
    this.#out = new Uint8Array(capacity)
  }

  bit(probs: Probs, i: number, bit: number): void {
    const bound = (this.#range >>> PROB_BITS) * p12(probs, i)
    if (bit) {
      this.#range = bound
    } else {
      this.#low += bound
      this.#range -= bound
    }
    adapt(probs, i, bit)
    while (this.#range < TOP) {
      this.#range *= 256
      this.#shiftLow()
    }
  }

  direct(value: number, count: number): void {
    // Up to 8 bits at a time: the range stays ≥ 2^16 before renormalising, so the truncation costs nothing measurable.
    while (count > 0) {
      const take = count > 8 ? 8 : count
      count -= take
      const chunk = Math.floor(value / 2 ** count) % (1 << take)
      const range = Math.floor(this.#range / (1 << take))
      this.#low += range * chunk
      this.#range = range
      while (this.#range < TOP) {
        this.#range *= 256
        this.#shiftLow()
      }
    }
  }

  /** Ends the stream and returns `prefix` followed by the coded bytes. */
  finish(prefix: Uint8Array): Uint8Array {
    // The value of [low, low + range) with the most trailing zeros: fewest significant bytes to write.
    const last = this.#low + this.#range - 1
    for (let shift = 32; shift >= 0; shift--) {
      const unit = 2 ** shift
      const v = Math.ceil(this.#low / unit) * unit
      if (v <= last) {
        this.#low = v
        break
      }
    }
    for (let i = 0; i < 5; i++) this.#shiftLow()
    let end = this.#pos
    for (let dropped = 0; dropped < MAX_PAD && end > 0 && this.#out[end - 1] === 0; dropped++) end--
    const bytes = new Uint8Array(prefix.length + end)
    bytes.set(prefix)
    bytes.set(this.#out.subarray(0, end), prefix.length)
    return bytes
  }

  #shiftLow(): void {
    const low = this.#low
    if (low < 0xff000000 || low >= TWO32) {
      const carry = low >= TWO32 ? 1 : 0
      if (this.#hasCache) this.#emit((this.#cache + carry) & 0xff)
      for (; this.#pending > 0; this.#pending--) this.#emit((0xff + carry) & 0xff)
      this.#cache = Math.floor(low / TOP) & 0xff
      this.#hasCache = true
    } else {
      this.#pending++
    }
    this.#low = (low % TOP) * 256
  }

  #emit(byte: number): void {
    if (this.#pos === this.#out.length) {
      const grown = new Uint8Array(this.#out.length * 2)
      grown.set(this.#out)
      this.#out = grown
    }
    this.#out[this.#pos++] = byte
  }
}

export class RangeDecoder {
  #code = 0
  #range = 0xffffffff
  readonly #bytes: Uint8Array
  #pos: number

  constructor(bytes: Uint8Array, start: number) {
    this.#bytes = bytes
    this.#pos = start
    for (let i = 0; i < 4; i++) this.#code = this.#code * 256 + this.#next()
    // The encoder's final value lies below 2^32 - 1: a larger start is not a coded stream.
    if (this.#code >= this.#range) corrupt('the coded data does not start a valid stream')
  }

  bit(probs: Probs, i: number): number {
    const bound = (this.#range >>> PROB_BITS) * p12(probs, i)
    let bit: number
    if (this.#code < bound) {
      this.#range = bound
      bit = 1
    } else {
      this.#code -= bound
      this.#range -= bound
      bit = 0
    }
    adapt(probs, i, bit)
    while (this.#range < TOP) {
      this.#range *= 256
      this.#code = this.#code * 256 + this.#next()
    }
    return bit
  }

  direct(count: number): number {
    let value = 0
    while (count > 0) {
      const take = count > 8 ? 8 : count
      count -= take
      const range = Math.floor(this.#range / (1 << take))
      const chunk = Math.floor(this.#code / range)
      // A valid stream never lands past the last chunk (the code stays below the range); a corrupt one may.
      if (chunk >= 1 << take) corrupt('the coded data leaves the coder interval')
      this.#code -= chunk * range
      this.#range = range
      value = value * (1 << take) + chunk
      while (this.#range < TOP) {
        this.#range *= 256
        this.#code = this.#code * 256 + this.#next()
      }
    }
    return value
  }

  /** Throws unless the whole input, and no more than the dropped zeros, was read. */
  end(): void {
    if (this.#pos < this.#bytes.length) corrupt(`${this.#bytes.length - this.#pos} unread bytes after the coded data`)
  }

  #next(): number {
    const pos = this.#pos++
    if (pos < this.#bytes.length) return this.#bytes[pos]!
    if (pos - this.#bytes.length >= MAX_PAD) corrupt('the block ends early (truncated)')
    return 0
  }
}

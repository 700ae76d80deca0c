/**
 * A binary range coder (the LZMA construction: 32-bit range, carry propagated through a cached byte and a run
 * of pending 0xFF bytes) with adaptive bit probabilities, direct (equiprobable) bits, and a cost meter that
 * runs the same models without writing, so an encoder can price alternatives before it commits to one.
 *
 * Termination is minimal: the encoder ends on the value of the final interval with the most trailing zero
 * bits and drops its trailing zero bytes (at most four); the caller records how many (the block's tag byte
 * does), and the decoder reads exactly that many zeros past the end, so a truncated or extended stream is
 * caught by its length alone.
 *
 * Probabilities are 16-bit estimates of P(bit = 1) used at 12-bit precision. Each one carries a count: it
 * moves by 1/(count + 1.5) of the error, so a fresh context learns about as fast as a Krichevsky–Trofimov
 * estimator, and settles at 1/(LIMIT + 1.5) so it keeps tracking local statistics.
 */
import { corrupt } from './errors.ts'
import { pow2 } from './exact-math.ts'

const TOP = 0x1000000 // 2^24: renormalise below this
const TWO32 = 0x100000000
const PROB_BITS = 12
const PROB_ONE = 1 << PROB_BITS
/** Where the adaptation rate stops slowing down. */
export const COUNT_LIMIT = 30
/** Zeros the flush drops at most, and the decoder may then read past the end. */
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
  return p < 1 ? 1 : Math.min(p, PROB_ONE - 1)
}

/** Moves context i toward `bit`. */
export function adapt(probs: Probs, i: number, bit: number): void {
  const c = probs.n[i]!
  const p = probs.p[i]!
  const rate = RATE[c]!
  probs.p[i] = bit ? p + (((65536 - p) * rate) >>> 16) : p - ((p * rate) >>> 16)
  if (c < COUNT_LIMIT) probs.n[i] = c + 1
}

/** Bits spent coding `bit` with context i, which then adapts: CostMeter.bit without the meter. */
export function spend(probs: Probs, i: number, bit: number): number {
  const c = probs.n[i]!
  const p = probs.p[i]!
  const rate = RATE[c]!
  probs.p[i] = bit ? p + (((65536 - p) * rate) >>> 16) : p - ((p * rate) >>> 16)
  if (c < COUNT_LIMIT) probs.n[i] = c + 1
  let q = p >>> 4
  q = q < 1 ? 1 : Math.min(q, PROB_ONE - 1)
  return COST[bit ? q : PROB_ONE - q]!
}

/**
 * Pricing without writing the contexts: a trial copies each context into scratch the first time it meets it
 * (marked with the trial's number) and adapts the copy, as `spend` would adapt the context. The contexts are
 * never written, so nothing has to be put back; a trial touches a few hundred contexts of a table of thousands.
 */
export interface Trial {
  /** The contexts priced against (read only). */
  p: Uint16Array
  n: Uint8Array
  /** Scratch copies, valid where mark[i] === id. */
  tp: Uint16Array
  tn: Uint8Array
  mark: Uint32Array
  id: number
}

/** The one trial there is (the codec is synchronous: a trial is over before the next begins). */
const trial: Trial = {
  p: new Uint16Array(0),
  n: new Uint8Array(0),
  tp: new Uint16Array(0),
  tn: new Uint8Array(0),
  mark: new Uint32Array(0),
  id: 0,
}

/** A new trial against `probs` (the same object each time, refilled: the previous trial is over). */
export function beginTrial(probs: Probs): Trial {
  const size = probs.p.length
  if (trial.mark.length < size) {
    trial.tp = new Uint16Array(size)
    trial.tn = new Uint8Array(size)
    trial.mark = new Uint32Array(size)
    trial.id = 0
  }
  trial.id++
  if (trial.id === 0xffffffff) {
    trial.mark.fill(0)
    trial.id = 1
  }
  trial.p = probs.p
  trial.n = probs.n
  return trial
}

/** Makes the trial's copy of context i, unless this trial has one already (tp[i] and tn[i] are then its state). */
export function touchTrial(p: Uint16Array, n: Uint8Array, tp: Uint16Array, tn: Uint8Array, mark: Uint32Array, id: number, i: number): void {
  if (mark[i] !== id) {
    mark[i] = id
    tp[i] = p[i]!
    tn[i] = n[i]!
  }
}

/** Bits spent coding a 0 at 16-bit probability `q16` (of a 1): what `spend` returns for a 0. */
export function zeroCost(q16: number): number {
  const q = q16 >>> 4
  return COST[PROB_ONE - (q < 1 ? 1 : Math.min(q, PROB_ONE - 1))]!
}

/** A 16-bit probability after a 0 is coded with it, having seen `count` bits: what `adapt` makes of it. */
export function afterZero(q16: number, count: number): number {
  return q16 - ((q16 * RATE[count]!) >>> 16)
}

/** A context's count after one more bit. */
export function countAfter(count: number): number {
  return count < COUNT_LIMIT ? count + 1 : count
}

/** Bits spent coding `bit` with context i in a trial, which then adapts its copy: `spend` on the copy. */
export function spendTrial(
  p: Uint16Array,
  n: Uint8Array,
  tp: Uint16Array,
  tn: Uint8Array,
  mark: Uint32Array,
  id: number,
  i: number,
  bit: number,
): number {
  touchTrial(p, n, tp, tn, mark, id, i)
  const c = tn[i]!
  const q16 = tp[i]!
  const rate = RATE[c]!
  tp[i] = bit ? q16 + (((65536 - q16) * rate) >>> 16) : q16 - ((q16 * rate) >>> 16)
  if (c < COUNT_LIMIT) tn[i] = c + 1
  const q = q16 >>> 4
  const q12 = q < 1 ? 1 : Math.min(q, PROB_ONE - 1)
  return COST[bit ? q12 : PROB_ONE - q12]!
}

/** Bits spent coding `bit` with context i as it stands. */
export function bitCost(probs: Probs, i: number, bit: number): number {
  const p = p12(probs, i)
  return COST[bit ? p : PROB_ONE - p]!
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
      const take = Math.min(count, 8)
      count -= take
      const chunk = Math.floor(value / pow2(count)) % (1 << take)
      const range = Math.floor(this.#range / (1 << take))
      this.#low += range * chunk
      this.#range = range
      while (this.#range < TOP) {
        this.#range *= 256
        this.#shiftLow()
      }
    }
  }

  /**
   * Ends the stream: the coded bytes after a header of `headerBytes` bytes (left for the caller to fill), and
   * `pad`, the count of zero bytes dropped from the end, which the decoder must be told.
   */
  finish(headerBytes = 0): { bytes: Uint8Array; pad: number } {
    // The value of [low, low + range) with the most trailing zeros: fewest significant bytes to write.
    const last = this.#low + this.#range - 1
    for (let shift = 32; shift >= 0; shift--) {
      const unit = pow2(shift)
      const v = Math.ceil(this.#low / unit) * unit
      if (v <= last) {
        this.#low = v
        break
      }
    }
    for (let i = 0; i < 5; i++) this.#shiftLow()
    let end = this.#pos
    let pad = 0
    for (; pad < MAX_PAD && end > 0 && this.#out[end - 1] === 0; pad++) end--
    const bytes = new Uint8Array(headerBytes + end)
    bytes.set(this.#out.subarray(0, end), headerBytes)
    return { bytes, pad }
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
  readonly #pad: number
  #pos: number

  /** Decodes bytes[start..] of a stream whose encoder dropped `pad` trailing zero bytes. */
  constructor(bytes: Uint8Array, start: number, pad: number) {
    this.#bytes = bytes
    this.#pad = pad
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
      const take = Math.min(count, 8)
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

  /** Throws unless exactly the whole input and the dropped zeros were read. */
  end(): void {
    const missing = this.#bytes.length + this.#pad - this.#pos
    if (missing > 0) corrupt(`${missing} bytes more than the coded data (extended or damaged)`)
  }

  #next(): number {
    const pos = this.#pos++
    if (pos < this.#bytes.length) return this.#bytes[pos]!
    if (pos - this.#bytes.length >= this.#pad) corrupt('the block ends early (truncated)')
    return 0
  }
}

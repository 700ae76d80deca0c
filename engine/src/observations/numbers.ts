/**
 * Numbers read straight from the bytes of a cell, for the CSV fast path: no string is made for a cell that
 * is a plain decimal. Exact: a decimal of at most 15 significant digits is an integer m < 2^53 over 10^k, and
 * for k ≤ 22 both are exact doubles, so the one rounding of m / 10^k is the correctly rounded value of the
 * decimal — the very number `Number()` returns for the same text.
 */

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22]
const MAX_DIGITS = 15
const MAX_DECIMALS = 22

/**
 * The value of bytes[start, end) when they spell `[+-]digits[.digits]` (at least one digit; `5.` and `.5`
 * included, as Number() reads them) within 15 significant digits and 22 decimals; NaN for anything else
 * (exponents, spaces, longer numbers…), which the caller then reads as a string.
 */
export function plainDecimal(bytes: Uint8Array, start: number, end: number): number {
  return plainDecimalInto(bytes, start, end, scratch, 0) ? (scratch[0] as number) : Number.NaN
}

const scratch = new Float64Array(1)

/**
 * plainDecimal, the value written to out[at] (true) rather than returned (a double returned from a call that
 * is not inlined is a new heap object: one per cell of a file); false when the bytes are not such a decimal.
 */
export function plainDecimalInto(bytes: Uint8Array, start: number, end: number, out: Float64Array, at: number): boolean {
  // A comma inside the range makes decimalCell stop short of `end`: not one decimal.
  return decimalCell(bytes, start, end, out, at) === end
}

/**
 * A cell of a plain CSV line read from `start` up to the next comma or `end`: its value into out[at] when it is
 * a plain decimal (`[+-]digits[.digits]`, at most 15 significant digits and 22 decimals), and where the cell ends (the comma or
 * `end`); -1 when it is anything else. One pass over the bytes for finding the cell and reading it.
 */
export function decimalCell(bytes: Uint8Array, start: number, end: number, out: Float64Array, at: number): number {
  let i = start
  if (i >= end) return -1
  let c = bytes[i] as number
  const negative = c === 45
  if (negative || c === 43) i++
  let m = 0
  let significant = 0
  let decimals = 0
  let digits = 0
  let dot = false
  for (; i < end; i++) {
    c = bytes[i] as number
    const d = c - 48
    if (d >= 0 && d <= 9) {
      digits++
      if (dot) decimals++
      if (m !== 0 || d !== 0) {
        significant++
        m = m * 10 + d
      }
    } else if (c === 46 && !dot) dot = true
    else if (c === 44) break
    else return -1
  }
  if (digits === 0 || significant > MAX_DIGITS || decimals > MAX_DECIMALS) return -1
  const v = m / (POW10[decimals] as number)
  out[at] = negative ? -v : v
  return i
}

/**
 * Where a cell from `start` ends (the next comma or `end`) when it is a plain decimal of any length
 * (`[+-]digits[.digits]`, at least one digit), else -1: for decimals too long for decimalCell, read with Number().
 */
export function plainCellEnd(bytes: Uint8Array, start: number, end: number): number {
  let i = start
  if (i < end && (bytes[i] === 45 || bytes[i] === 43)) i++
  let digits = 0
  let dot = false
  for (; i < end; i++) {
    const c = bytes[i] as number
    if (c >= 48 && c <= 57) digits++
    else if (c === 46 && !dot) dot = true
    else if (c === 44) break
    else return -1
  }
  return digits > 0 ? i : -1
}

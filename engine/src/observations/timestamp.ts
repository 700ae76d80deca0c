/**
 * Timestamp parsing for observation files.
 *
 * Accepted forms (all return integer epoch milliseconds, UTC):
 * - ISO 8601 dates and date-times: `2014-04-02`, `2014-04-02T14:29`, `2014-04-02T14:29:00`,
 *   `2014-04-02 14:29:00` (NAB style, space instead of `T`), optional fraction (`.123`, `,5`; digits past
 *   milliseconds are truncated), optional zone `Z` or `±HH:MM` / `±HHMM` / `±HH`.
 *   A time without a zone is UTC (never the local zone of the machine).
 * - Epoch numbers (`1396448940`, `1396448940.5`, `1396448940000`), decided by magnitude:
 *   |n| < 1e11 is seconds, otherwise milliseconds. 1e11 s is the year 5138 and 1e11 ms is 1973-03-03,
 *   so every realistic seconds value and every milliseconds value after March 1973 is read right;
 *   milliseconds values from 1970 to early 1973 would be read as seconds (far future, hence rejected).
 *
 * `parseTimestamp` is the general parser (a regex per call). `timestampParserFor(sample)` returns a parser
 * specialised to the layout of a sample (fixed positions, no regex); it falls back to the general parser
 * for any value whose layout differs, so the result never depends on which layout came first.
 */

import { plainDecimalInto } from './numbers.ts'

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/
const SECONDS_LIMIT = 1e11
const DAY_MS = 86_400_000

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). Howard Hinnant's days_from_civil. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const mp = (month + 9) % 12
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}

/** Epoch ms of validated UTC fields, or undefined when a field is out of range (month 13, Feb 30, 24:00…). */
function fieldsToMs(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
  offsetMinutes: number,
): number | undefined {
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined
  if (hour > 23 || minute > 59 || second > 59) return undefined
  return daysFromCivil(year, month, day) * DAY_MS + hour * 3_600_000 + minute * 60_000 + second * 1000 + ms - offsetMinutes * 60_000
}

/** Milliseconds from a fraction-of-second digit string (truncated past 3 digits). */
function fractionToMs(digits: string): number {
  return Number(`${digits}00`.slice(0, 3))
}

/** True for `[+-]digits[.digits]` (at least one digit, no exponent, no hex, no whitespace). */
function isPlainDecimal(s: string): boolean {
  const n = s.length
  let i = 0
  if (n === 0) return false
  let c = s.charCodeAt(0)
  if (c === 43 || c === 45) i = 1
  let digits = 0
  let dot = false
  for (; i < n; i++) {
    c = s.charCodeAt(i)
    if (c >= 48 && c <= 57) digits++
    else if (c === 46 && !dot) dot = true
    else return false
  }
  return digits > 0
}

function epochToMs(n: number): number | undefined {
  if (!Number.isFinite(n)) return undefined
  const ms = Math.round(Math.abs(n) < SECONDS_LIMIT ? n * 1000 : n)
  return Number.isSafeInteger(ms) ? ms : undefined
}

/** Parse one timestamp (see the module comment for the accepted forms). Undefined when it cannot be read. */
export function parseTimestamp(value: string): number | undefined {
  const s = value.trim()
  if (isPlainDecimal(s)) return epochToMs(Number(s))
  const m = ISO_RE.exec(s)
  if (m === null) return undefined
  let offset = 0
  if (m[9] !== undefined) {
    const oh = Number(m[10])
    const om = m[11] === undefined ? 0 : Number(m[11])
    if (oh > 23 || om > 59) return undefined
    offset = (m[9] === '-' ? -1 : 1) * (oh * 60 + om)
  }
  return fieldsToMs(
    Number(m[1]),
    Number(m[2]),
    Number(m[3]),
    m[4] === undefined ? 0 : Number(m[4]),
    m[5] === undefined ? 0 : Number(m[5]),
    m[6] === undefined ? 0 : Number(m[6]),
    m[7] === undefined ? 0 : fractionToMs(m[7]),
    offset,
  )
}

export type TimestampParser = (value: string) => number | undefined

/** Two ASCII digits at i as a number, or -1 if either is not a digit. */
function d2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48
  const b = s.charCodeAt(i + 1) - 48
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1
}

const FAST_ISO_RE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?$/

/** Where the parts of an ISO timestamp stand, read from a sample of the file's layout (null: another layout). */
function isoLayoutOf(sample: string) {
  const m = FAST_ISO_RE.exec(sample)
  if (m === null) return null
  const length = sample.length
  const hasSeconds = length > 16 && sample.charCodeAt(16) === 58
  const fracLen = m[1] === undefined ? 0 : m[1].length
  const fracStart = 20
  return {
    length,
    sep: sample.charCodeAt(10),
    hasSeconds,
    fracLen,
    fracStart,
    zoneStart: hasSeconds ? (fracLen > 0 ? fracStart + fracLen : 19) : 16,
    zone: m[2] === undefined ? 0 : m[2] === 'Z' ? 1 : 2,
    fracScale: fracLen >= 3 ? 1 : fracLen === 2 ? 10 : 100,
  }
}

/**
 * A parser specialised to the layout of `sample` (the first timestamp of a file): fixed-position digit reads
 * for `YYYY-MM-DD[T ]HH:MM[:SS[.fff]][Z|±HH:MM]`, `Number()` for epoch numbers. Values in another layout
 * go through `parseTimestamp`.
 */
export function timestampParserFor(sample: string): TimestampParser {
  if (isPlainDecimal(sample)) {
    return (value) => (isPlainDecimal(value) ? epochToMs(Number(value)) : parseTimestamp(value))
  }
  const layout = isoLayoutOf(sample)
  if (layout === null) return parseTimestamp
  const { length, sep, hasSeconds, fracLen, fracStart, zoneStart, zone, fracScale } = layout
  return (value) => {
    if (
      value.length !== length ||
      value.charCodeAt(4) !== 45 ||
      value.charCodeAt(7) !== 45 ||
      value.charCodeAt(10) !== sep ||
      value.charCodeAt(13) !== 58
    ) {
      return parseTimestamp(value)
    }
    const y1 = d2(value, 0)
    const y2 = d2(value, 2)
    const month = d2(value, 5)
    const day = d2(value, 8)
    const hour = d2(value, 11)
    const minute = d2(value, 14)
    if ((y1 | y2 | month | day | hour | minute) < 0) return parseTimestamp(value)
    let second = 0
    let ms = 0
    if (hasSeconds) {
      if (value.charCodeAt(16) !== 58) return parseTimestamp(value)
      second = d2(value, 17)
      if (second < 0) return parseTimestamp(value)
      if (fracLen > 0) {
        if (value.charCodeAt(19) !== 46) return parseTimestamp(value)
        const end = fracStart + Math.min(fracLen, 3)
        for (let i = fracStart; i < end; i++) {
          const c = value.charCodeAt(i) - 48
          if (c < 0 || c > 9) return parseTimestamp(value)
          ms = ms * 10 + c
        }
        ms *= fracScale
        for (let i = end; i < fracStart + fracLen; i++) {
          const c = value.charCodeAt(i) - 48
          if (c < 0 || c > 9) return parseTimestamp(value)
        }
      }
    }
    let offset = 0
    if (zone === 1) {
      if (value.charCodeAt(zoneStart) !== 90) return parseTimestamp(value)
    } else if (zone === 2) {
      const sign = value.charCodeAt(zoneStart)
      const oh = d2(value, zoneStart + 1)
      const om = d2(value, zoneStart + 4)
      if ((sign !== 43 && sign !== 45) || value.charCodeAt(zoneStart + 3) !== 58 || oh < 0 || om < 0 || oh > 23 || om > 59) {
        return parseTimestamp(value)
      }
      offset = (sign === 45 ? -1 : 1) * (oh * 60 + om)
    }
    return fieldsToMs(y1 * 100 + y2, month, day, hour, minute, second, ms, offset)
  }
}

/**
 * A timestamp read from the bytes [start, end) of a cell into out[at] (true), or false when the bytes need the
 * string parser: the CSV fast path's counterpart of a parser from `timestampParserFor(sample)`. It reads only
 * what that parser reads at fixed positions (the sample's ISO layout, or plain epoch decimals) and gets the
 * same value from the same arithmetic; every other case (another layout, an invalid date, a long number) it
 * leaves to the string parser, so the result never differs from reading the cell as a string. (Written into
 * `out`, not returned: a double returned from a call that is not inlined is a new heap object per row.)
 */
export type BytesTimestampParser = (bytes: Uint8Array, start: number, end: number, out: Float64Array, at: number) => boolean

/** Two ASCII digits at i as a number, or -1 if either is not a digit. */
function b2(bytes: Uint8Array, i: number): number {
  const a = (bytes[i] as number) - 48
  const b = (bytes[i + 1] as number) - 48
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1
}

export function bytesTimestampParserFor(sample: string): BytesTimestampParser {
  if (isPlainDecimal(sample)) {
    return (bytes, start, end, out, at) => {
      if (!plainDecimalInto(bytes, start, end, out, at)) return false
      // epochToMs, in place.
      const n = out[at] as number
      const ms = Math.round(Math.abs(n) < SECONDS_LIMIT ? n * 1000 : n)
      if (!Number.isSafeInteger(ms)) return false
      out[at] = ms
      return true
    }
  }
  const layout = isoLayoutOf(sample)
  if (layout === null) return () => false
  const { length, sep, hasSeconds, fracLen, fracStart, zoneStart, zone, fracScale } = layout
  // The date of the last value read (its 10 bytes, and its day in ms): consecutive rows mostly share it.
  const lastDate = new Uint8Array(10)
  let lastDayMs = -1
  return (bytes, start, end, out, at) => {
    if (
      end - start !== length ||
      bytes[start + 4] !== 45 ||
      bytes[start + 7] !== 45 ||
      bytes[start + 10] !== sep ||
      bytes[start + 13] !== 58
    ) {
      return false
    }
    const y1 = b2(bytes, start)
    const y2 = b2(bytes, start + 2)
    const month = b2(bytes, start + 5)
    const day = b2(bytes, start + 8)
    const hour = b2(bytes, start + 11)
    const minute = b2(bytes, start + 14)
    if ((y1 | y2 | month | day | hour | minute) < 0) return false
    let second = 0
    let ms = 0
    if (hasSeconds) {
      if (bytes[start + 16] !== 58) return false
      second = b2(bytes, start + 17)
      if (second < 0) return false
      if (fracLen > 0) {
        if (bytes[start + 19] !== 46) return false
        const fracEnd = start + fracStart + Math.min(fracLen, 3)
        for (let i = start + fracStart; i < fracEnd; i++) {
          const c = (bytes[i] as number) - 48
          if (c < 0 || c > 9) return false
          ms = ms * 10 + c
        }
        ms *= fracScale
        for (let i = fracEnd; i < start + fracStart + fracLen; i++) {
          const c = (bytes[i] as number) - 48
          if (c < 0 || c > 9) return false
        }
      }
    }
    let offset = 0
    if (zone === 1) {
      if (bytes[start + zoneStart] !== 90) return false
    } else if (zone === 2) {
      const sign = bytes[start + zoneStart]
      const oh = b2(bytes, start + zoneStart + 1)
      const om = b2(bytes, start + zoneStart + 4)
      if ((sign !== 43 && sign !== 45) || bytes[start + zoneStart + 3] !== 58 || oh < 0 || om < 0 || oh > 23 || om > 59) {
        return false
      }
      offset = (sign === 45 ? -1 : 1) * (oh * 60 + om)
    }
    // fieldsToMs, in place; the day from the last value when its date bytes are the same (then so is the result).
    if (hour > 23 || minute > 59 || second > 59) return false
    let dayMs = lastDayMs
    let same = dayMs >= 0
    for (let i = 0; same && i < 10; i++) same = bytes[start + i] === lastDate[i]
    if (!same) {
      const year = y1 * 100 + y2
      if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false
      dayMs = daysFromCivil(year, month, day) * DAY_MS
      for (let i = 0; i < 10; i++) lastDate[i] = bytes[start + i] as number
      lastDayMs = dayMs
    }
    out[at] = dayMs + hour * 3_600_000 + minute * 60_000 + second * 1000 + ms - offset * 60_000
    return true
  }
}

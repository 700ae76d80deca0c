/**
 * What the lossy encoder learned of one stream's quantised columns, kept by the caller from one segment of the
 * stream to the next (an entity's segmenter keeps one): per dimension the predictor it chose last and what that
 * cost per value. Choosing a predictor means pricing several against the adaptive coder, most of the encoder's
 * time; a dimension mostly keeps its predictor from segment to segment, so the next segments price only that one (at
 * both activity speeds) and search all again after an interval that doubles while searches keep choosing the same
 * predictor (up to MOST_INTERVAL segments) and falls back to LEAST_INTERVAL when they do not, or at once when the
 * hint prices more than DRIFT times what it did when chosen. Measured: 8-d synthetic segments encode in 0.55× the
 * time at the same size; NAB at 1 % keeps its median ratio (51.39×), its geometric mean 0.3 % lower.
 *
 * Hints change which of the format's codings a block uses, never the format: any decoder reads the blocks, and a
 * stream encoded with the same hints from the same start gives the same bytes. They are plain data, for the
 * segmenter's snapshot (`parseCodecHints` checks what it is given back).
 */
import { PREDICTORS, type Predictor } from './predict.ts'

/** Segments between full searches: doubled each time a search keeps the predictor, back to the least when it changes. */
export const LEAST_INTERVAL = 2
export const MOST_INTERVAL = 32
export const DRIFT = 1.05

/**
 * Per dimension: [predictor, bits per value when last searched, segments since, segments between searches], or null
 * before the first.
 */
export interface CodecHints {
  columns: ([Predictor, number, number, number] | null)[]
}

export function createCodecHints(): CodecHints {
  return { columns: [] }
}

/** Hints from plain data (a snapshot): a clear error naming what is wrong, never half-read hints. */
export function parseCodecHints(data: unknown): CodecHints {
  const fail = (what: string): never => {
    throw new Error(`codec hints: ${what}`)
  }
  if (data === null || typeof data !== 'object' || !Array.isArray((data as CodecHints).columns)) fail('expected {columns: [...]}')
  const columns = (data as CodecHints).columns.map((column, d) => {
    if (column === null) return null
    if (!Array.isArray(column) || column.length !== 4) return fail(`columns[${d}]: expected [predictor, bits, age, interval] or null`)
    const [predictor, bits, age, interval] = column as unknown[]
    if (!PREDICTORS.includes(predictor as Predictor)) return fail(`columns[${d}]: no predictor ${String(predictor)}`)
    if (typeof bits !== 'number' || !(bits >= 0) || !Number.isFinite(bits)) return fail(`columns[${d}]: bits ${String(bits)}`)
    if (!Number.isSafeInteger(age) || (age as number) < 0) return fail(`columns[${d}]: age ${String(age)}`)
    if (!Number.isSafeInteger(interval) || (interval as number) < LEAST_INTERVAL || (interval as number) > MOST_INTERVAL) {
      return fail(`columns[${d}]: interval ${String(interval)}`)
    }
    return [predictor, bits, age, interval] as [Predictor, number, number, number]
  })
  return { columns }
}

/** The hints as plain data, copied (the live ones keep changing): what parseCodecHints reads back. */
export function snapshotCodecHints(hints: CodecHints): CodecHints {
  return { columns: hints.columns.map((column) => (column === null ? null : [...column])) }
}

/** The predictor to price alone for dimension d, or undefined when a full search is due. */
export function hintedPredictor(hints: CodecHints | undefined, d: number): Predictor | undefined {
  const column = hints?.columns[d]
  if (column === null || column === undefined || column[2] + 1 >= column[3]) return undefined
  return column[0]
}

/** Whether the hinted predictor's price (bits per value) has drifted enough from its own for a full search now. */
export function hintDrifted(hints: CodecHints, d: number, bitsPerValue: number): boolean {
  const column = hints.columns[d]
  return column !== null && column !== undefined && bitsPerValue > DRIFT * column[1] + 0.05
}

/**
 * Records dimension d's coding: after a full search its price becomes the reference, and the interval to the next
 * search doubles if the predictor stayed, or starts again from the least; after a hinted one, one segment more.
 */
export function noteColumn(hints: CodecHints | undefined, d: number, predictor: Predictor, bitsPerValue: number, searched: boolean): void {
  if (hints === undefined) return
  while (hints.columns.length <= d) hints.columns.push(null)
  const column = hints.columns[d]
  if (column === null || column === undefined) hints.columns[d] = [predictor, bitsPerValue, 0, LEAST_INTERVAL]
  else if (!searched) column[2]++
  else hints.columns[d] = [predictor, bitsPerValue, 0, predictor === column[0] ? Math.min(2 * column[3], MOST_INTERVAL) : LEAST_INTERVAL]
}

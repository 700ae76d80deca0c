/**
 * The Numenta Anomaly Benchmark's scoring rules (NAB 1.1, `nab/sweeper.py` + `nab/runner.py`'s normalisation),
 * re-implemented from their description:
 *
 * - Each file's first `min(floor(0.15 · rows), 0.15 · 5000)` rows are the probationary period: detections there
 *   are ignored, and so is a window that lies wholly inside it.
 * - Every row gets a weight. Inside a window of `w` rows whose right edge is row `R`, row `i` sits at
 *   `p = −(R − i + 1) / w` ∈ [−1, 0) and is worth `A_TP · σ(p) / σ(−1)` (1.0 at the window's first row, falling
 *   to ≈ 0.1 at its last). Outside every window, row `i` after the window that ended at `R` (width `w`) sits at
 *   `p = |R − i| / (w − 1)` and costs `A_FP · σ(p)` (negative: ≈ 0 just after the window, → −A_FP further on); a
 *   row before any window costs the full `−A_FP`. σ is the scaled sigmoid `2 / (1 + e^{5p}) − 1` (−1 for p ≥ 3).
 * - A window earns the weight of its best — that is, its first — detected row, once; later detections in the same
 *   window add nothing and cost nothing. A window with no detection costs `−A_FN`. Every detected row outside the
 *   windows adds its (negative) weight: each false positive counts.
 * - The corpus score is the sum over files, normalised as `100 · (S − S_null) / (S_perfect − S_null)`, where the
 *   null detector never fires (so `S_null = −A_FN · windows`) and the perfect one fires on each window's first
 *   row (`S_perfect = A_TP · windows`, as NAB's `tpCount · tpWeight`).
 *
 * Windows are matched by time: a window covers the rows with `start ≤ ts ≤ end`. NAB's sweeper enters a window
 * only at the row whose timestamp equals the window's start exactly; `prepareFile` reports windows whose edges
 * are not row timestamps (`misaligned`), so a mismatch between the two readings cannot pass unseen.
 */

/** A cost matrix (NAB's `config/profiles.json`). */
export interface CostProfile {
  tpWeight: number
  fpWeight: number
  fnWeight: number
}

/** NAB's "standard" profile. */
export const STANDARD_PROFILE: CostProfile = { tpWeight: 1.0, fpWeight: 0.11, fnWeight: 1.0 }
export const PROBATION_PERCENT = 0.15

/** The scaled sigmoid of a relative position: +0.987 at −1 (a window's left edge), 0 at 0, −1 from 3 on. */
export function scaledSigmoid(position: number): number {
  if (position >= 3.0) return -1.0
  return 2 / (1 + Math.exp(5 * position)) - 1
}

/** Rows at the start of a file whose detections NAB ignores. */
export function probationaryLength(rows: number, percent = PROBATION_PERCENT): number {
  return Math.min(Math.floor(percent * rows), percent * 5000)
}

/** One data file with its labelled windows, times in epoch ms (windows inclusive at both ends). */
export interface LabelledFile {
  name: string
  timestamps: ArrayLike<number>
  windows: ReadonlyArray<readonly [number, number]>
}

/** A file made ready to score any number of detectors quickly. */
export interface PreparedFile {
  name: string
  rows: number
  probation: number
  /** Windows as inclusive row ranges, in time order. */
  windows: { first: number; last: number }[]
  /** Windows that hold at least one row after the probationary period: the ones that count. */
  scorable: boolean[]
  /** Per row: the window it lies in (−1 outside every window, −2 in the probationary period). */
  windowOf: Int32Array
  /** Per row: what a detection there is worth (positive inside a window, negative outside). */
  weight: Float64Array
  /** Window edges that are not the timestamp of a row (NAB's sweeper needs exact matches). */
  misaligned: number
}

const OUTSIDE = -1
const PROBATIONARY = -2

export function prepareFile(file: LabelledFile, profile: CostProfile = STANDARD_PROFILE, percent = PROBATION_PERCENT): PreparedFile {
  const ts = file.timestamps
  const rows = ts.length
  const probation = probationaryLength(rows, percent)
  const windows: { first: number; last: number }[] = []
  let misaligned = 0
  for (const [start, end] of file.windows) {
    let first = -1
    let last = -1
    for (let i = 0; i < rows; i++) {
      const t = ts[i] as number
      if (t >= start && t <= end) {
        if (first < 0) first = i
        last = i
      }
    }
    if (first < 0) throw new Error(`${file.name}: window [${start}, ${end}] covers no row`)
    if (ts[first] !== start || ts[last] !== end) misaligned++
    windows.push({ first, last })
  }
  windows.sort((a, b) => a.first - b.first)
  for (let k = 1; k < windows.length; k++) {
    if ((windows[k] as { first: number }).first <= (windows[k - 1] as { last: number }).last)
      throw new Error(`${file.name}: windows overlap`)
  }

  const windowOf = new Int32Array(rows).fill(OUTSIDE)
  const weight = new Float64Array(rows)
  const maxTp = scaledSigmoid(-1.0)
  let k = 0
  let prev: { first: number; last: number } | null = null
  for (let i = 0; i < rows; i++) {
    const w = windows[k]
    if (w !== undefined && i >= w.first && i <= w.last) {
      const width = w.last - w.first + 1
      weight[i] = (scaledSigmoid(-(w.last - i + 1) / width) * profile.tpWeight) / maxTp
      windowOf[i] = k
      if (i === w.last) {
        prev = w
        k++
      }
    } else {
      // Past the window that ended last, relative to its width; before any window, the full cost.
      const position = prev === null ? 3.0 : Math.abs(prev.last - i) / (prev.last - prev.first)
      weight[i] = scaledSigmoid(position) * profile.fpWeight
    }
    if (i < probation) windowOf[i] = PROBATIONARY
  }
  const scorable = windows.map((w) => w.last >= probation)
  return { name: file.name, rows, probation, windows, scorable, windowOf, weight, misaligned }
}

/** How one detector did on one file (or, summed, on several). */
export interface Tally {
  score: number
  /** Windows with a detection, their summed credit. */
  tp: number
  tpCredit: number
  /** Windows without one. */
  fn: number
  /** Detected rows outside the windows, their summed (negative) cost. */
  fp: number
  fpCost: number
  /** Windows that count. */
  windows: number
  /** Detected rows after the probationary period. */
  detections: number
}

export function emptyTally(): Tally {
  return { score: 0, tp: 0, tpCredit: 0, fn: 0, fp: 0, fpCost: 0, windows: 0, detections: 0 }
}

export function addTally(into: Tally, t: Tally): Tally {
  into.score += t.score
  into.tp += t.tp
  into.tpCredit += t.tpCredit
  into.fn += t.fn
  into.fp += t.fp
  into.fpCost += t.fpCost
  into.windows += t.windows
  into.detections += t.detections
  return into
}

/** Scores one file's detections (`detected[i]` true/non-zero where the detector alerted on row i). */
export function scoreDetections(file: PreparedFile, detected: ArrayLike<boolean | number>, profile: CostProfile = STANDARD_PROFILE): Tally {
  if (detected.length !== file.rows) throw new Error(`${file.name}: ${detected.length} detections for ${file.rows} rows`)
  const best = new Float64Array(file.windows.length).fill(Number.NEGATIVE_INFINITY)
  const t = emptyTally()
  for (let i = 0; i < file.rows; i++) {
    if (!detected[i]) continue
    const k = file.windowOf[i] as number
    if (k === PROBATIONARY) continue
    t.detections++
    const w = file.weight[i] as number
    if (k === OUTSIDE) {
      t.fp++
      t.fpCost += w
    } else if (w > (best[k] as number)) {
      best[k] = w
    }
  }
  for (let k = 0; k < file.windows.length; k++) {
    if (!file.scorable[k]) continue
    t.windows++
    const b = best[k] as number
    if (b === Number.NEGATIVE_INFINITY) t.fn++
    else {
      t.tp++
      t.tpCredit += b
    }
  }
  t.score = t.tpCredit + t.fpCost - t.fn * profile.fnWeight
  return t
}

/** Detections are the rows whose score is at or above the threshold. */
export function detectionsAt(scores: ArrayLike<number>, threshold: number): Uint8Array {
  const out = new Uint8Array(scores.length)
  for (let i = 0; i < scores.length; i++) out[i] = (scores[i] as number) >= threshold ? 1 : 0
  return out
}

/** The detector that never fires. */
export function nullDetections(file: PreparedFile): Uint8Array {
  return new Uint8Array(file.rows)
}

/** The detector that fires once per window, on its first row that counts. */
export function perfectDetections(file: PreparedFile): Uint8Array {
  const out = new Uint8Array(file.rows)
  for (const w of file.windows) out[Math.max(w.first, Math.ceil(file.probation))] = w.last >= file.probation ? 1 : 0
  return out
}

/** NAB's normalisation: 0 for the null detector, 100 for the perfect one; NaN when the two coincide (no windows). */
export function normalise(raw: number, nullRaw: number, perfectRaw: number): number {
  return perfectRaw === nullRaw ? Number.NaN : (100 * (raw - nullRaw)) / (perfectRaw - nullRaw)
}

/**
 * The threshold that maximises the summed raw score over several files (what NAB's optimiser looks for, found
 * here exactly by a sweep over every distinct score instead of a hill climb). Returns the threshold and the score.
 */
export function bestThreshold(
  files: PreparedFile[],
  scores: ArrayLike<number>[],
  profile: CostProfile = STANDARD_PROFILE,
): { threshold: number; score: number } {
  const rows: { s: number; f: number; i: number }[] = []
  let total = 0
  const best: Float64Array[] = []
  for (let f = 0; f < files.length; f++) {
    const file = files[f] as PreparedFile
    const sc = scores[f] as ArrayLike<number>
    best.push(new Float64Array(file.windows.length).fill(Number.NEGATIVE_INFINITY))
    for (let k = 0; k < file.windows.length; k++) if (file.scorable[k]) total -= profile.fnWeight
    for (let i = 0; i < file.rows; i++) if (file.windowOf[i] !== PROBATIONARY) rows.push({ s: sc[i] as number, f, i })
  }
  rows.sort((a, b) => b.s - a.s)
  let bestScore = total
  let bestAt = Number.POSITIVE_INFINITY
  for (let j = 0; j < rows.length; ) {
    const s = (rows[j] as { s: number }).s
    // Every row at this score is detected together.
    for (; j < rows.length && (rows[j] as { s: number }).s === s; j++) {
      const { f, i } = rows[j] as { f: number; i: number }
      const file = files[f] as PreparedFile
      const k = file.windowOf[i] as number
      const w = file.weight[i] as number
      if (k === OUTSIDE) total += w
      else {
        const b = best[f] as Float64Array
        const prev = b[k] as number
        if (w > prev) {
          total += prev === Number.NEGATIVE_INFINITY ? w + profile.fnWeight : w - prev
          b[k] = w
        }
      }
    }
    if (total > bestScore) {
      bestScore = total
      bestAt = s
    }
  }
  return { threshold: bestAt, score: bestScore }
}

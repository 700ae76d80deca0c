/** The k smallest (distance, label) pairs seen, ties broken by the smaller label: a bounded max-heap. */
export class TopK {
  readonly #k: number
  readonly #d: Float64Array
  readonly #l: Float64Array
  #size = 0

  constructor(k: number) {
    this.#k = k
    this.#d = new Float64Array(k)
    this.#l = new Float64Array(k)
  }

  get size(): number {
    return this.#size
  }

  /** The distance a candidate must beat (Infinity until k are held). */
  get bound(): number {
    return this.#size < this.#k ? Infinity : (this.#d[0] as number)
  }

  push(distance: number, label: number): void {
    const d = this.#d
    const l = this.#l
    if (this.#size < this.#k) {
      let i = this.#size++
      while (i > 0) {
        const parent = (i - 1) >> 1
        if (!worse(distance, label, d[parent] as number, l[parent] as number)) break
        d[i] = d[parent] as number
        l[i] = l[parent] as number
        i = parent
      }
      d[i] = distance
      l[i] = label
      return
    }
    if (!worse(d[0] as number, l[0] as number, distance, label)) return
    // Replace the root (the worst held) and sift down.
    const n = this.#size
    let i = 0
    for (;;) {
      const a = 2 * i + 1
      if (a >= n) break
      const b = a + 1
      const c = b < n && worse(d[b] as number, l[b] as number, d[a] as number, l[a] as number) ? b : a
      if (!worse(d[c] as number, l[c] as number, distance, label)) break
      d[i] = d[c] as number
      l[i] = l[c] as number
      i = c
    }
    d[i] = distance
    l[i] = label
  }

  /**
   * Nearest first, emptying the heap (pop the worst into the last free slot). Typed arrays and no closures:
   * nothing here for V8 to pin in exactScan's optimised code (an array literal's allocation site, once a
   * full GC clears it, deoptimised the whole scan).
   */
  drain(): { labels: Float64Array; distances: Float64Array } {
    const d = this.#d
    const l = this.#l
    const n = this.#size
    const labels = new Float64Array(n)
    const distances = new Float64Array(n)
    for (let size = n; size > 0; size--) {
      labels[size - 1] = l[0] as number
      distances[size - 1] = d[0] as number
      const lastD = d[size - 1] as number
      const lastL = l[size - 1] as number
      const m = size - 1
      let i = 0
      for (;;) {
        const a = 2 * i + 1
        if (a >= m) break
        const b = a + 1
        const c = b < m && worse(d[b] as number, l[b] as number, d[a] as number, l[a] as number) ? b : a
        if (!worse(d[c] as number, l[c] as number, lastD, lastL)) break
        d[i] = d[c] as number
        l[i] = l[c] as number
        i = c
      }
      d[i] = lastD
      l[i] = lastL
    }
    this.#size = 0
    return { labels, distances }
  }
}

function worse(d1: number, l1: number, d2: number, l2: number): boolean {
  return d1 > d2 || (d1 === d2 && l1 > l2)
}

/**
 * One TopK kept alive for good. Instances are short-lived, and V8 holds the map a class instance ends up with
 * (reached by field-adding transitions) only weakly: a full GC with no instance alive frees it, and every
 * function optimised against it (the exact scan, push, bound) is deoptimised and re-optimised — measured at
 * 5–8× the scan's cost for the queries that follow.
 */
const _keepMapAlive = new TopK(1)

import type { Observation } from './types.ts'

/**
 * An observation made by the CSV reader: a plain `{entity, ts, vector}` as far as anyone can tell, made by a
 * constructor rather than an object literal. V8 tracks the objects of a literal per site, and when a young-space
 * collection finds nearly all of a site's recent objects alive (as it does for the rows of a batch when it comes
 * just after another collection), it starts allocating that site's objects straight in the old space: every row
 * from then on is garbage that waits for a full collection, and the heap grows by the rows it has read.
 */
export class Row implements Observation {
  entity: string
  ts: number
  vector: number[]
  constructor(entity: string, ts: number, vector: number[]) {
    this.entity = entity
    this.ts = ts
    this.vector = vector
  }
}

/**
 * Makes vectors of `dim` doubles as copies of a packed array of doubles of that length: a vector of exactly `dim`
 * doubles (pushing into [] would reserve room for 17, and every row stays in memory until its segment seals).
 */
export function vectorMaker(dim: number): (values: ArrayLike<number>, from: number) => number[] {
  const zeros = Array.from(new Float64Array(dim))
  return (values, from) => {
    const vector = zeros.slice()
    for (let d = 0; d < dim; d++) vector[d] = values[from + d] as number
    return vector
  }
}

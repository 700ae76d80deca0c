/** A growable list of uint32 labels: an entity's or a regime's segments, or a dimension's, in insertion order. */
export class LabelList {
  #items: Uint32Array
  #length = 0

  constructor(capacity = 16) {
    this.#items = new Uint32Array(Math.max(1, capacity))
  }

  static from(labels: Uint32Array): LabelList {
    const list = new LabelList(labels.length)
    list.#items.set(labels)
    list.#length = labels.length
    return list
  }

  get length(): number {
    return this.#length
  }

  push(label: number): void {
    if (this.#length === this.#items.length) {
      const grown = new Uint32Array(this.#items.length * 2)
      grown.set(this.#items)
      this.#items = grown
    }
    this.#items[this.#length++] = label
  }

  at(i: number): number {
    return this.#items[i] as number
  }

  /** The labels so far, as a view (valid until the next push). */
  view(): Uint32Array {
    return this.#items.subarray(0, this.#length)
  }
}

import { LabelList } from './label-list.ts'

/** Strings (entity ids, regime labels) as small integers, in first-seen order, each with the labels that carry it. */
export class Interner {
  readonly names: string[] = []
  readonly postings: LabelList[] = []
  readonly #ids = new Map<string, number>()

  get size(): number {
    return this.names.length
  }

  id(name: string): number | undefined {
    return this.#ids.get(name)
  }

  intern(name: string): number {
    let id = this.#ids.get(name)
    if (id === undefined) {
      id = this.names.length
      this.names.push(name)
      this.postings.push(new LabelList())
      this.#ids.set(name, id)
    }
    return id
  }

  name(id: number): string {
    return this.names[id] as string
  }

  /** Sets the labels carrying an id, from a checkpoint (a copy). */
  restoreLabels(id: number, labels: Uint32Array): void {
    this.postings[id] = LabelList.from(labels)
  }

  /** The labels carrying this id. */
  labels(id: number): LabelList {
    return this.postings[id] as LabelList
  }
}

import { byId, el } from './dom.ts'
import type { SegmentFilter } from './segments-table.ts'

/** The entity picker and "only with alerts" box above the segments table. */
export class SegmentFilterForm {
  readonly #entity = byId<HTMLSelectElement>('segment-entity')
  readonly #alerts = byId<HTMLInputElement>('segment-alerts')

  constructor(onChange: (filter: SegmentFilter) => void) {
    const changed = () => onChange({ entity: this.#entity.value === '' ? null : this.#entity.value, alertsOnly: this.#alerts.checked })
    this.#entity.addEventListener('change', changed)
    this.#alerts.addEventListener('change', changed)
    byId<HTMLFormElement>('segment-filter').addEventListener('submit', (event) => event.preventDefault())
  }

  /** Keeps the choice of entities current; the selected one stays selected. */
  entities(names: readonly string[]): void {
    const selected = this.#entity.value
    this.#entity.replaceChildren(el('option', { value: '' }, 'all entities'), ...names.map((name) => el('option', { value: name }, name)))
    this.#entity.value = names.includes(selected) ? selected : ''
  }
}

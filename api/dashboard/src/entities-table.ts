import { el, fixed, integer, time } from './dom.ts'
import type { Entity } from './vsdb.ts'

/** One row per entity; those with a live anomaly since the page opened are marked. */
export function renderEntities(body: HTMLTableSectionElement, entities: readonly Entity[], flagged: ReadonlySet<string>): void {
  body.replaceChildren(
    ...entities.map((e) =>
      el(
        'tr',
        { 'data-testid': 'entity-row', 'data-entity': e.entity, 'data-anomalous': flagged.has(e.entity) ? 'true' : undefined },
        el('th', { scope: 'row' }, e.entity),
        el('td', {}, e.dim),
        el('td', {}, integer(e.observations)),
        el('td', {}, integer(e.segments)),
        el('td', {}, fixed(e.maxAnomaly)),
        el('td', {}, integer(e.alerts)),
        el('td', {}, time(e.from)),
        el('td', {}, time(e.to)),
      ),
    ),
  )
  if (entities.length === 0) body.append(el('tr', {}, el('td', { colspan: '8' }, 'No entities yet: ingest some observations.')))
}

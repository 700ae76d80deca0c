import { el, fixed, integer, time } from './dom.ts'
import type { Segment } from './vsdb.ts'

const SHOWN_ALERTS = 3

export interface SegmentFilter {
  entity: string | null
  alertsOnly: boolean
}

/** The most recent segments (by their last observation), newest first; live ones slot in as they arrive. */
export class SegmentsTable {
  readonly #body: HTMLTableSectionElement
  readonly #onSimilar: (cid: string) => void
  readonly #rows: number
  readonly #segments = new Map<string, Segment>()
  readonly #flagged = new Set<string>()
  #filter: SegmentFilter = { entity: null, alertsOnly: false }

  constructor(body: HTMLTableSectionElement, onSimilar: (cid: string) => void, rows = 50) {
    this.#body = body
    this.#onSimilar = onSimilar
    this.#rows = rows
  }

  /**
   * Adds a fetched list. Sealed segments never change nor go, so this is a union: a segment that arrived live while
   * the list was being fetched (and so is not in it) stays.
   */
  merge(segments: readonly Segment[]): void {
    for (const s of segments) this.#segments.set(s.cid, s)
    this.#render()
  }

  clear(): void {
    this.#segments.clear()
    this.#flagged.clear()
    this.#render()
  }

  add(segment: Segment): void {
    this.#segments.set(segment.cid, segment)
    this.#render()
  }

  flag(cid: string): void {
    this.#flagged.add(cid)
    this.#render()
  }

  filter(filter: SegmentFilter): void {
    this.#filter = filter
    this.#render()
  }

  #render(): void {
    const { entity, alertsOnly } = this.#filter
    const recent = [...this.#segments.values()]
      .filter((s) => (entity === null || s.entity === entity) && (!alertsOnly || s.alerts.length > 0))
      .sort((a, b) => b.to - a.to || (a.cid < b.cid ? -1 : 1))
      .slice(0, this.#rows)
    this.#body.replaceChildren(...recent.map((s) => this.#row(s)))
    if (recent.length === 0) this.#body.append(el('tr', {}, el('td', { colspan: '8' }, 'No sealed segments here yet.')))
  }

  #row(s: Segment): HTMLTableRowElement {
    const similar = el('button', { type: 'button', 'aria-label': `Find segments similar to ${s.cid}` }, 'Similar')
    similar.addEventListener('click', () => this.#onSimilar(s.cid))
    return el(
      'tr',
      {
        'data-testid': 'segment-row',
        'data-cid': s.cid,
        'data-entity': s.entity,
        'data-anomalous': this.#flagged.has(s.cid) ? 'true' : undefined,
      },
      el('td', {}, s.entity),
      el('td', {}, time(s.from)),
      el('td', {}, time(s.to)),
      el('td', {}, integer(s.count)),
      el('td', {}, fixed(s.anomaly)),
      el('td', {}, s.regime),
      el('td', { 'data-testid': 'segment-alerts' }, ...alertCells(s.alerts)),
      el('td', {}, el('code', { class: 'cid', title: s.cid }, s.cid), ' ', similar),
    )
  }
}

function alertCells(alerts: Segment['alerts']): (Node | string)[] {
  if (alerts.length === 0) return ['—']
  const out: (Node | string)[] = []
  for (const [i, a] of alerts.slice(0, SHOWN_ALERTS).entries()) {
    if (i > 0) out.push(', ')
    out.push(time(a.ts), ` (${fixed(a.score, 2)})`)
  }
  if (alerts.length > SHOWN_ALERTS) out.push(` +${alerts.length - SHOWN_ALERTS} more`)
  return out
}

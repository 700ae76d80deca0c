import { byId, el, fixed, tbodyOf, time } from './dom.ts'
import { messageOf, type VsdbClient } from './vsdb.ts'

/** k-NN by segment: a CID (typed, pasted, or a segment's "Similar" button) and k, then the hits. */
export class QueryBox {
  readonly #form = byId<HTMLFormElement>('query-form')
  readonly #cid = byId<HTMLInputElement>('query-cid')
  readonly #k = byId<HTMLInputElement>('query-k')
  readonly #message = byId('query-message')
  readonly #table = document.querySelector<HTMLTableElement>('[data-testid="query-results"]')!
  readonly #body = tbodyOf('query-results')
  #client: VsdbClient | null = null

  constructor() {
    this.#form.addEventListener('submit', (event) => {
      event.preventDefault()
      void this.#run()
    })
  }

  use(client: VsdbClient | null): void {
    this.#client = client
  }

  ask(cid: string): void {
    this.#cid.value = cid
    void this.#run()
    this.#form.scrollIntoView({ block: 'nearest' })
  }

  async #run(): Promise<void> {
    const client = this.#client
    const like = this.#cid.value.trim()
    const k = Math.min(100, Math.max(1, Math.trunc(this.#k.valueAsNumber) || 5))
    if (client === null || like === '') return
    this.#message.textContent = 'Searching…'
    try {
      const hits = await client.query.query({ like, k })
      this.#body.replaceChildren(
        ...hits.map((h, i) => {
          const again = el('button', { type: 'button', 'aria-label': `Find segments similar to ${h.cid}` }, 'Similar')
          again.addEventListener('click', () => this.ask(h.cid))
          return el(
            'tr',
            { 'data-testid': 'query-hit', 'data-cid': h.cid },
            el('td', {}, i + 1),
            el('th', { scope: 'row' }, h.entity),
            el('td', {}, time(h.from)),
            el('td', {}, time(h.to)),
            el('td', {}, fixed(h.distance, 4)),
            el('td', {}, fixed(h.anomaly)),
            el('td', {}, h.regime),
            el('td', {}, el('code', { class: 'cid', title: h.cid }, h.cid), ' ', again),
          )
        }),
      )
      this.#table.hidden = false
      this.#message.textContent = `${hits.length} segment${hits.length === 1 ? '' : 's'} nearest to ${like}`
    } catch (err) {
      this.#table.hidden = true
      this.#message.textContent = `No answer: ${messageOf(err)}`
    }
  }
}

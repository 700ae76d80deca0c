import { el, integer } from './dom.ts'
import type { Counts, Status } from './vsdb.ts'

/** Archive counts (the status object's `ipfs` and the views' counts) and the status object itself. */
export function renderStatus(archive: HTMLElement, pre: HTMLElement, status: Status, counts: Counts): void {
  const items: [string, string, string][] = [
    ['archived-segments', 'Archived segments', integer(status.ipfs.archived_segments)],
    ['total-cids', 'Blocks (CIDs)', integer(status.ipfs.total_cids)],
    ['pinned-nodes', 'Pinned nodes', integer(status.ipfs.pinned_nodes)],
    ['last-archive', 'Last archive', status.ipfs.last_archive ?? 'never'],
    ['events', 'Events', integer(counts.events)],
    ['entities', 'Entities', integer(counts.entities)],
  ]
  archive.replaceChildren(
    ...items.flatMap(([id, label, value]) => [el('dt', {}, label), el('dd', { 'data-testid': `archive-${id}` }, value)]),
  )
  pre.textContent = JSON.stringify(status, null, 2)
}

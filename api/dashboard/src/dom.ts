type Child = Node | string | number | null | undefined

/** A tiny element builder: attributes as strings (`data-testid`, `scope`, …), children as nodes or text. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) if (value !== undefined) node.setAttribute(name, value)
  for (const child of children) if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child))
  return node
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id)
  if (node === null) throw new Error(`the page has no #${id}`)
  return node as T
}

export function tbodyOf(testid: string): HTMLTableSectionElement {
  const body = document.querySelector<HTMLTableSectionElement>(`[data-testid="${testid}"] tbody`)
  if (body === null) throw new Error(`the page has no table ${testid}`)
  return body
}

/** A `<time>` of an epoch-ms timestamp, in UTC (what the data sets use), machine-readable in `datetime`. */
export function time(ms: number): HTMLTimeElement {
  const iso = new Date(ms).toISOString()
  return el('time', { datetime: iso }, iso.slice(0, 16).replace('T', ' '))
}

export function fixed(value: number, digits = 3): string {
  return value.toFixed(digits)
}

export function integer(value: number): string {
  return value.toLocaleString('en')
}

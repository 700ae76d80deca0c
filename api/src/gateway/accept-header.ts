/** One entry of an Accept header (RFC 9110 §12.5.1): `type/subtype;name=value;q=0.5`. */
export interface MediaRange {
  /** Lower-cased `type/subtype`. */
  type: string
  /** Lower-cased names; values unquoted, `q` left out. */
  params: Map<string, string>
  q: number
}

/** Splits on a separator that is not inside a quoted string. */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = []
  let current = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string
    if (quoted && char === '\\' && i + 1 < text.length) {
      current += char + (text[++i] as string)
      continue
    }
    if (char === '"') quoted = !quoted
    if (char === separator && !quoted) {
      parts.push(current)
      current = ''
    } else {
      current += char
    }
  }
  parts.push(current)
  return parts
}

function unquote(value: string): string {
  if (value.length < 2 || !value.startsWith('"') || !value.endsWith('"')) return value
  return value.slice(1, -1).replace(/\\(.)/g, '$1')
}

/** The entries of an Accept header, most preferred first (by q, then in the order written); q=0 entries are dropped. */
export function parseAccept(header: string): MediaRange[] {
  const ranges: MediaRange[] = []
  for (const entry of splitOutsideQuotes(header, ',')) {
    const [head = '', ...rawParams] = splitOutsideQuotes(entry, ';')
    const type = head.trim().toLowerCase()
    if (!/^[^\s/]+\/[^\s/]+$/.test(type)) continue
    const params = new Map<string, string>()
    let q = 1
    for (const raw of rawParams) {
      const eq = raw.indexOf('=')
      if (eq === -1) continue
      const name = raw.slice(0, eq).trim().toLowerCase()
      const value = unquote(raw.slice(eq + 1).trim())
      if (name === 'q') {
        const parsed = Number(value)
        q = value !== '' && Number.isFinite(parsed) && parsed >= 0 && parsed <= 1 ? parsed : 0
      } else {
        params.set(name, value)
      }
    }
    if (q > 0) ranges.push({ type, params, q })
  }
  return ranges
    .map((range, index) => ({ range, index }))
    .sort((a, b) => b.range.q - a.range.q || a.index - b.index)
    .map(({ range }) => range)
}

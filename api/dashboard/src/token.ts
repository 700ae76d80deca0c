const KEY = 'vsdb.token'

/**
 * The token to use: from the URL fragment (`#token=…`, what `npm start` prints), remembered for next time and
 * taken out of the address bar; else the remembered one; else null (the page asks).
 */
export function initialToken(): string | null {
  const fromFragment = new URLSearchParams(window.location.hash.slice(1)).get('token')
  if (fromFragment !== null && fromFragment !== '') {
    remember(fromFragment)
    history.replaceState(null, '', window.location.pathname + window.location.search)
    return fromFragment
  }
  return stored()
}

export function remember(token: string): void {
  try {
    localStorage.setItem(KEY, token)
  } catch {
    // Storage can be off (private windows): the token then lasts as long as the page.
  }
}

export function forget(): void {
  try {
    localStorage.removeItem(KEY)
  } catch {
    // Nothing was stored.
  }
}

function stored(): string | null {
  try {
    return localStorage.getItem(KEY)
  } catch {
    return null
  }
}

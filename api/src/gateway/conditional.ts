import type { IncomingMessage } from 'node:http'

/** If-None-Match names this Etag (weakly compared, as RFC 9110 says for this header) or `*`: the client has it. */
export function clientHasEtag(req: IncomingMessage, etag: string): boolean {
  const header = req.headers['if-none-match']
  if (header === undefined) return false
  return header.split(',').some((tag) => {
    const trimmed = tag.trim()
    return trimmed === '*' || trimmed === etag || trimmed === `W/${etag}`
  })
}

/** `Cache-Control: only-if-cached`: answer only from what is held (412 otherwise, not 404). */
export function onlyIfCached(req: IncomingMessage): boolean {
  return /(^|,)\s*only-if-cached\s*(,|$)/i.test(req.headers['cache-control'] ?? '')
}

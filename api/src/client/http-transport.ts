/** One HTTP exchange as the client links need it: the status and the body as text. */
export type HttpTransport = (request: {
  method: 'GET' | 'POST'
  url: string
  headers: Record<string, string>
  /** JSON text, or bytes (sent as application/octet-stream). */
  body?: string | Uint8Array
  signal?: AbortSignal
}) => Promise<{ status: number; text: string }>

export const contentTypeOf = (body: string | Uint8Array): string =>
  typeof body === 'string' ? 'application/json' : 'application/octet-stream'

/** The platform's `fetch`: what a browser has. */
export const fetchTransport: HttpTransport = async ({ method, url, headers, body, signal }) => {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': contentTypeOf(body) },
    body: body as string | Uint8Array<ArrayBuffer> | undefined,
    signal,
  })
  return { status: response.status, text: await response.text() }
}

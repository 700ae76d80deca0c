/** One HTTP exchange as the client links need it: the status and the body as text. */
export type HttpTransport = (request: {
  method: 'GET' | 'POST'
  url: string
  headers: Record<string, string>
  body?: string
  signal?: AbortSignal
}) => Promise<{ status: number; text: string }>

/** The platform's `fetch`: what a browser has. */
export const fetchTransport: HttpTransport = async ({ method, url, headers, body, signal }) => {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body,
    signal,
  })
  return { status: response.status, text: await response.text() }
}

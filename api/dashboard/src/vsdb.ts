import { createClient, type VsdbClient } from '../../src/client/create-client.ts'

export type { VsdbClient }

/** The shapes the page shows, as the typed client returns them (no copy of the server's types). */
export type Entity = Awaited<ReturnType<VsdbClient['entities']['query']>>[number]
export type Segment = Awaited<ReturnType<VsdbClient['segments']['query']>>[number]
export type Hit = Awaited<ReturnType<VsdbClient['query']['query']>>[number]
export type Observation = Awaited<ReturnType<VsdbClient['read']['query']>>[number]
export type Alert = Awaited<ReturnType<VsdbClient['alerts']['query']>>[number]
export type Status = Awaited<ReturnType<VsdbClient['status']['query']>>
export type Counts = Awaited<ReturnType<VsdbClient['counts']['query']>>

/** The same client users import, pointed at the node that served this page. */
export function connect(token: string): VsdbClient {
  return createClient({ url: window.location.origin, token })
}

/** True when the node refused the token (401): the page then asks for another. */
export function isUnauthorized(err: unknown): boolean {
  const data = (err as { data?: { code?: unknown; httpStatus?: unknown } } | null)?.data
  return data?.code === 'UNAUTHORIZED' || data?.httpStatus === 401
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

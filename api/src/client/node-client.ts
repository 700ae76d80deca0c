import { WebSocket } from 'ws'
import { type ClientOptions, createClientOver, type VsdbClient } from './create-client.ts'
import type { SocketClass } from './socket-call-link.ts'
import { undiciTransport } from './undici-transport.ts'

/**
 * The typed client for Node: the same as the browser's, with queries and mutations over undici's dispatcher
 * with keep-alive instead of `fetch`, and calls over a WebSocket of the `ws` package instead of undici's.
 *
 * @example
 * const vsdb = createClient({ url: 'http://127.0.0.1:7300', token })
 * const hits = await vsdb.query.query({ like: segmentCid, k: 10 })
 */
export function createClient(options: ClientOptions): VsdbClient {
  return createClientOver(options, undiciTransport(), WebSocket as unknown as SocketClass)
}

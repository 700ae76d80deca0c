import { type ClientOptions, createClientOver, type VsdbClient } from './create-client.ts'
import { nodeHttpTransport } from './node-http-transport.ts'

/**
 * The typed client for Node: the same as the browser's, with queries and mutations over node:http with
 * keep-alive instead of `fetch`.
 *
 * @example
 * const vsdb = createClient({ url: 'http://127.0.0.1:7300', token })
 * const hits = await vsdb.query.query({ like: segmentCid, k: 10 })
 */
export function createClient(options: ClientOptions): VsdbClient {
  return createClientOver(options, nodeHttpTransport())
}

import type { Encoder } from '@trpc/server/adapters/ws'
import { decodeSocketCall } from '../wire/socket-call.ts'
import { streamOf } from './stream-of.ts'

/**
 * tRPC's WebSocket messages, JSON in text frames, plus calls with a binary input in binary frames
 * (`wire/socket-call.ts`): such a call becomes the mutation it names, its input the stream of its bytes (what an
 * octetInputParser procedure takes, as from an HTTP body). Answers are JSON text, so tRPC's own clients understand
 * every message they get.
 */
export const socketEncoder: Encoder = {
  encode: (data) => JSON.stringify(data),
  decode: (data) => {
    if (typeof data === 'string') return JSON.parse(data)
    const { id, path, input } = decodeSocketCall(data instanceof Uint8Array ? data : new Uint8Array(data))
    return { id, method: 'mutation', params: { path, input: streamOf(input) } }
  },
}

import { TRPCClientError, type TRPCLink } from '@trpc/client'
import type { AnyRouter } from '@trpc/server'
import { observable } from '@trpc/server/observable'
import { encodeSocketCall } from '../wire/socket-call.ts'
import { type Answer, deliverAnswer } from './deliver-answer.ts'

interface Waiting {
  resolve: (message: Answer) => void
  reject: (err: Error) => void
}

/** What the link needs of a WebSocket class: the browser's, or in Node the `ws` package's (lighter than undici's). */
export type SocketClass = new (url: string) => WebSocket

export interface SocketCallLink<TRouter extends AnyRouter> {
  link: TRPCLink<TRouter>
  close(): Promise<void>
}

/**
 * Queries and mutations over one WebSocket in tRPC's own message format (`{id, method, params: {path, input}}`,
 * the token sent first as the connection parameters; a mutation whose input is bytes as a binary call, see
 * `wire/socket-call.ts`), each sent the moment it is made: tRPC's WebSocket client
 * waits a zero timeout before every send, which Node stretches to at least 1 ms. Subscriptions stay on tRPC's
 * wsLink (reconnects, resumption). The socket opens on first use and again after it drops.
 */
export function socketCallLink<TRouter extends AnyRouter>(options: {
  url: string
  token: string
  /** The WebSocket class: the platform's by default. */
  WebSocket?: SocketClass
}): SocketCallLink<TRouter> {
  const Socket = options.WebSocket ?? WebSocket
  let socket: Promise<WebSocket> | null = null
  let nextId = 0
  const waiting = new Map<number, Waiting>()

  const failAll = (err: Error) => {
    for (const w of waiting.values()) w.reject(err)
    waiting.clear()
  }

  const open = (): Promise<WebSocket> => {
    socket ??= new Promise<WebSocket>((resolve, reject) => {
      const ws = new Socket(`${options.url}?connectionParams=1`)
      ws.addEventListener('open', () => {
        ws.send(JSON.stringify({ method: 'connectionParams', data: { token: options.token } }))
        resolve(ws)
      })
      ws.addEventListener('message', (event) => {
        const message = JSON.parse(String(event.data)) as Answer & { id?: number }
        const w = typeof message.id === 'number' ? waiting.get(message.id) : undefined
        if (w === undefined) return
        waiting.delete(message.id as number)
        w.resolve(message)
      })
      const dropped = () => {
        socket = null
        const err = new Error(`the WebSocket to ${options.url} closed`)
        reject(err)
        failAll(err)
      }
      ws.addEventListener('close', dropped)
      ws.addEventListener('error', dropped)
    })
    return socket
  }

  const link: TRPCLink<TRouter> =
    () =>
    ({ op }) =>
      observable((observer) => {
        let done = false
        const id = ++nextId
        const settle = (message: Answer) => {
          if (done) return
          done = true
          deliverAnswer(observer, message)
        }
        const fail = (err: Error) => {
          if (done) return
          done = true
          observer.error(TRPCClientError.from(err))
        }
        waiting.set(id, { resolve: settle, reject: fail })
        // A mutation whose input is bytes (an observation frame) goes as one binary message, not as base64 in JSON.
        const message =
          op.type === 'mutation' && op.input instanceof Uint8Array
            ? encodeSocketCall(id, op.path, op.input)
            : JSON.stringify({ id, method: op.type, params: { path: op.path, input: op.input } })
        open().then((ws) => ws.send(message), fail)
        return () => {
          done = true
          waiting.delete(id)
        }
      })

  return {
    link,
    async close() {
      const ws = await socket?.catch(() => null)
      ws?.close()
      socket = null
    },
  }
}

import { TRPCClientError, type TRPCLink } from '@trpc/client'
import type { AnyRouter } from '@trpc/server'
import { observable } from '@trpc/server/observable'
import { encodeSocketCall } from '../wire/socket-call.ts'
import { type Answer, deliverAnswer } from './deliver-answer.ts'

interface Waiting {
  resolve: (message: Answer) => void
  reject: (err: Error) => void
  /** Sent as a binary call: a server that cannot read it answers with no id (see `answerWithoutId`). */
  binary: boolean
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

  /**
   * An error with no id answers a message the server could not read. This link's JSON is always readable, so it
   * answers a binary call: from a server that does not know them, or one whose header is damaged. Which call it was
   * cannot be told, so every binary call waiting gets it rather than one of them waiting forever (a call the server
   * did read may then be reported failed though it is applied: a caller that retries may ingest its rows twice).
   */
  const answerWithoutId = (message: Answer) => {
    if (message.error === undefined) return
    for (const [id, w] of waiting) {
      if (!w.binary) continue
      waiting.delete(id)
      w.resolve(message)
    }
  }

  const open = (): Promise<WebSocket> => {
    socket ??= new Promise<WebSocket>((resolve, reject) => {
      const ws = new Socket(`${options.url}?connectionParams=1`)
      ws.addEventListener('open', () => {
        ws.send(JSON.stringify({ method: 'connectionParams', data: { token: options.token } }))
        resolve(ws)
      })
      ws.addEventListener('message', (event) => {
        const text = String(event.data)
        // tRPC's server keeps the connection alive with a bare PING after 30 s of quiet; one that gets no PONG hangs up.
        if (text === 'PING') return ws.send('PONG')
        if (text === 'PONG') return
        let message: Answer & { id?: unknown }
        try {
          message = JSON.parse(text) as Answer & { id?: unknown }
        } catch {
          return
        }
        if (typeof message !== 'object' || message === null) return
        if (typeof message.id !== 'number') return answerWithoutId(message)
        const w = waiting.get(message.id)
        if (w === undefined) return
        waiting.delete(message.id)
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
        // A mutation whose input is bytes (an observation frame) goes as one binary message, not as base64 in JSON.
        const binary = op.type === 'mutation' && op.input instanceof Uint8Array
        waiting.set(id, { resolve: settle, reject: fail, binary })
        const message = binary
          ? encodeSocketCall(id, op.path, op.input as Uint8Array)
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

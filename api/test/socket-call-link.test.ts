import type { AddressInfo } from 'node:net'
import { createTRPCUntypedClient } from '@trpc/client'
import type { AnyRouter } from '@trpc/server'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { type SocketClass, socketCallLink } from '../src/client/socket-call-link.ts'

// The server here is a bare `ws` server on 127.0.0.1 that plays the parts of tRPC's WebSocket adapter this link
// must cope with, so each can be sent on cue: a keep-alive PING, an error with no id, a message that is not JSON.

interface Peer {
  url: string
  /** Every text message the server got after the connection parameters, and every binary one as `<binary>`. */
  received: string[]
  onCall: (message: { id: number; method: string } | 'binary', reply: (text: string) => void) => void
  close(): Promise<void>
}

const peers: Peer[] = []
afterEach(async () => {
  for (const p of peers.splice(0)) await p.close()
})

async function startPeer(): Promise<Peer> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve) => server.once('listening', resolve))
  const peer: Peer = {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received: [],
    onCall: () => {},
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of server.clients) c.terminate()
        server.close(() => resolve())
      }),
  }
  server.on('connection', (socket) => {
    let first = true
    socket.on('message', (data, isBinary) => {
      const reply = (text: string) => socket.send(text)
      if (isBinary) {
        peer.received.push('<binary>')
        return peer.onCall('binary', reply)
      }
      const text = data.toString()
      if (first) {
        first = false
        return
      }
      peer.received.push(text)
      if (text.startsWith('{')) peer.onCall(JSON.parse(text), reply)
    })
  })
  peers.push(peer)
  return peer
}

const clientOf = (url: string) => {
  const calls = socketCallLink<AnyRouter>({ url, token: 't', WebSocket: WebSocket as unknown as SocketClass })
  return { calls, client: createTRPCUntypedClient<AnyRouter>({ links: [calls.link] }) }
}

const errorWithoutId = JSON.stringify({
  id: null,
  error: { message: 'Unexpected end of JSON input', code: -32700, data: { code: 'PARSE_ERROR' } },
})

describe('socketCallLink', () => {
  it("answers the server's keep-alive PING with PONG and goes on answering calls", async () => {
    const peer = await startPeer()
    peer.onCall = (message, reply) => {
      if (message === 'binary') return
      if (message.id === 1) reply('PING')
      reply(JSON.stringify({ id: message.id, result: { type: 'data', data: message.id * 10 } }))
    }
    const { calls, client } = clientOf(peer.url)
    try {
      expect(await client.query('status')).toBe(10)
      expect(await client.query('status')).toBe(20)
      expect(peer.received.filter((m) => !m.startsWith('{'))).toEqual(['PONG'])
    } finally {
      await calls.close()
    }
  })

  it('ignores a text message that is not a JSON object instead of throwing in its listener', async () => {
    const peer = await startPeer()
    peer.onCall = (message, reply) => {
      if (message === 'binary') return
      reply('not json {')
      reply('null')
      reply(JSON.stringify({ id: message.id, result: { type: 'data', data: 'ok' } }))
    }
    const { calls, client } = clientOf(peer.url)
    try {
      expect(await client.query('status')).toBe('ok')
    } finally {
      await calls.close()
    }
  })

  it('fails a binary call that the server answers with an error carrying no id, and leaves JSON calls waiting for theirs', async () => {
    const peer = await startPeer()
    let heldQuery: (() => void) | undefined
    peer.onCall = (message, reply) => {
      if (message === 'binary') return reply(errorWithoutId)
      heldQuery = () => reply(JSON.stringify({ id: message.id, result: { type: 'data', data: 'still answered' } }))
    }
    const { calls, client } = clientOf(peer.url)
    try {
      const query = client.query('status')
      await expect.poll(() => heldQuery).toBeDefined()
      await expect(client.mutation('ingestFrame', new Uint8Array([1, 2, 3]))).rejects.toThrow(/Unexpected end of JSON input/)
      heldQuery?.()
      expect(await query).toBe('still answered')
      expect(peer.received.at(-1)).toBe('<binary>')
    } finally {
      await calls.close()
    }
  })
})

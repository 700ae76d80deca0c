import type { TRPCLink } from '@trpc/client'
import type { AnyRouter } from '@trpc/server'
import { encodeObservationFrame } from '../wire/observation-frame.ts'

/**
 * Sends an `ingest` batch as one binary frame to `ingestFrame` when its rows allow it (numbers only, no `meta`),
 * else as JSON: the same rows, the same answer and the same errors, at a fraction of the bytes and the time. Over a
 * transport of text only (`base64`: tRPC's WebSocket messages are JSON), the frame goes to `ingestFrameBase64`.
 */
export function frameLink<TRouter extends AnyRouter>(options: { base64?: boolean } = {}): TRPCLink<TRouter> {
  return () =>
    ({ op, next }) => {
      if (op.type !== 'mutation' || op.path !== 'ingest') return next(op)
      const input = op.input as { observations?: unknown; entity?: unknown } | undefined
      const framed =
        Array.isArray(input?.observations) && (input.entity === undefined || typeof input.entity === 'string')
          ? encodeObservationFrame(input.observations, input.entity as string | undefined)
          : null
      if (framed === null) return next(op)
      return next(
        options.base64 ? { ...op, path: 'ingestFrameBase64', input: toBase64(framed) } : { ...op, path: 'ingestFrame', input: framed },
      )
    }
}

function toBase64(bytes: Uint8Array): string {
  if (typeof Buffer === 'function') return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(binary)
}

/**
 * A call whose input is bytes, as one binary WebSocket message: tRPC's WebSocket messages are JSON text, so bytes
 * would otherwise go as base64 inside JSON (a third larger, and encoded, escaped, parsed and decoded on the way).
 * The server's message encoder (`server/socket-encoder.ts`) reads it as the mutation `{id, params: {path, input}}`
 * with the bytes as the stream an octetInputParser procedure takes, the same procedure HTTP clients post to.
 *
 *   "VSDBCAL1"          8 bytes
 *   u32 id              little-endian
 *   u16 path length     little-endian, then the path (UTF-8)
 *   the bytes
 */
export const CALL_MAGIC = 'VSDBCAL1'
const HEAD = CALL_MAGIC.length + 4 + 2
const MAX_PATH = 256

export function encodeSocketCall(id: number, path: string, input: Uint8Array): Uint8Array {
  const pathBytes = new TextEncoder().encode(path)
  if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw new RangeError(`call id ${id} does not fit in 32 bits`)
  if (pathBytes.length > MAX_PATH) throw new RangeError(`path ${path} is longer than ${MAX_PATH} bytes`)
  const out = new Uint8Array(HEAD + pathBytes.length + input.length)
  for (let i = 0; i < CALL_MAGIC.length; i++) out[i] = CALL_MAGIC.charCodeAt(i)
  const view = new DataView(out.buffer)
  view.setUint32(CALL_MAGIC.length, id, true)
  view.setUint16(CALL_MAGIC.length + 4, pathBytes.length, true)
  out.set(pathBytes, HEAD)
  out.set(input, HEAD + pathBytes.length)
  return out
}

/** The call in a binary message; throws an Error saying what is wrong when it is not one. */
export function decodeSocketCall(bytes: Uint8Array): { id: number; path: string; input: Uint8Array } {
  if (bytes.length < HEAD || String.fromCharCode(...bytes.subarray(0, CALL_MAGIC.length)) !== CALL_MAGIC) {
    throw new Error(`a binary message must be a call starting with "${CALL_MAGIC}"`)
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const id = view.getUint32(CALL_MAGIC.length, true)
  const pathLength = view.getUint16(CALL_MAGIC.length + 4, true)
  if (pathLength > MAX_PATH || HEAD + pathLength > bytes.length) throw new Error("the call's path runs past its message")
  const path = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(HEAD, HEAD + pathLength))
  return { id, path, input: bytes.subarray(HEAD + pathLength) }
}

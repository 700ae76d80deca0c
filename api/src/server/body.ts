import type { IncomingMessage } from 'node:http'
import { VsdbError } from '@vsdb/log'

/** The request body, refused with TOO_LARGE as soon as it passes `limit` bytes (not after reading it all). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) throw tooLarge(limit)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks, size)
}

export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const body = await readBody(req, limit)
  try {
    return JSON.parse(body.toString('utf8'))
  } catch (err) {
    throw new VsdbError('INVALID_INPUT', `the body is not valid JSON: ${(err as Error).message}`, { field: 'body' })
  }
}

function tooLarge(limit: number): VsdbError {
  return new VsdbError('TOO_LARGE', `the body is larger than ${limit} bytes`, { field: 'body', limit })
}

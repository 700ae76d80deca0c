import { readFile } from 'node:fs/promises'
import type { ServerResponse } from 'node:http'
import { extname, join, normalize, sep } from 'node:path'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
}

/**
 * Serves the built dashboard from `root` (no token needed for the page itself: it asks for one and sends it
 * with every call). Returns false when there is no such file, so the caller can answer 404.
 */
export async function serveStatic(root: string, pathname: string, res: ServerResponse, head: boolean): Promise<boolean> {
  const relative = pathname === '/' ? 'index.html' : decodeURIComponent(pathname).slice(1)
  const path = normalize(join(root, relative))
  if (!path.startsWith(root + sep)) return false
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch {
    if (pathname !== '/') return false
    bytes = Buffer.from(NOT_BUILT)
  }
  res.writeHead(200, {
    'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
    'content-length': bytes.length,
    'x-content-type-options': 'nosniff',
    'cache-control': relative === 'index.html' ? 'no-cache' : 'public, max-age=3600',
  })
  res.end(head ? undefined : bytes)
  return true
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>vsdb</title>
<p>The dashboard is not built. Run <code>npm run build</code> at the repository root, then reload.</p>
<p>The API is up: <code>/trpc</code>, <code>/v1/cluster/status</code>, <code>/ipfs/{cid}</code>.</p>`

import { defaultParts, openNode } from '@vsdb/engine'
import { resolveDataDir, VsdbError } from '@vsdb/log'
import { startApiServer } from '../server/http-server.ts'
import { openTokenStore } from '../tokens/index.ts'
import type { GlobalOptions } from './commands.ts'
import { printResult } from './output.ts'
import { removeServeFile, writeServeFile } from './serve-file.ts'

export interface ServeOptions extends GlobalOptions {
  port?: string
  host?: string
  /** Print a fresh read token with the URL (what `npm start` shows a new user). */
  printToken?: boolean
}

/** How often a serving node writes a checkpoint of its projections when anything changed (a restart folds only the tail). */
const CHECKPOINT_EVERY_MS = 60_000

/**
 * `vsdb serve`: the node with its API on one port until SIGINT/SIGTERM. While it runs, the other commands on
 * the directory go through it (see serve.json).
 */
export async function serveCommand(options: ServeOptions): Promise<void> {
  const dir = resolveDataDir(options.dir)
  const port = options.port === undefined ? 7300 : Number(options.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new VsdbError('INVALID_INPUT', `--port: ${JSON.stringify(options.port)} is not a port number (0-65535)`, { field: '--port' })
  }
  const node = await openNode({ dir, parts: defaultParts() })
  const tokens = openTokenStore(dir)
  let server: Awaited<ReturnType<typeof startApiServer>>
  try {
    server = await startApiServer({ node, tokens, host: options.host, port })
  } catch (err) {
    await node.close()
    throw err
  }
  await writeServeFile(dir, { pid: process.pid, url: server.url, token: tokens.ephemeral('admin') })
  const readToken = options.printToken === true ? (await tokens.create('read', 'npm start')).token : undefined

  let checkpointed = node.views.counts().events
  const timer = setInterval(() => {
    const events = node.views.counts().events
    if (events === checkpointed) return
    checkpointed = events
    node.checkpoint().catch((err: unknown) => process.stderr.write(`vsdb: checkpoint failed: ${(err as Error).message}\n`))
  }, CHECKPOINT_EVERY_MS)
  timer.unref()

  const dashboard = readToken === undefined ? `${server.url}/` : `${server.url}/#token=${readToken}`
  printResult(options, { ok: true, url: server.url, dashboard, node: node.log.node, dir, ...(readToken ? { token: readToken } : {}) }, () =>
    [
      `vsdb node ${node.log.node} serving ${dir}`,
      `  dashboard  ${dashboard}`,
      `  tRPC       ${server.url}/trpc   (WebSocket on the same path)`,
      `  REST       ${server.url}/v1/cluster/status`,
      `  gateway    ${server.url}/ipfs/{cid}`,
      ...(readToken === undefined ? ['  tokens     vsdb token create --scope read|write|admin'] : [`  read token ${readToken}`]),
      'Ctrl-C stops it.',
    ].join('\n'),
  )

  await new Promise<void>((resolve) => {
    const stop = () => resolve()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  clearInterval(timer)
  await removeServeFile(dir)
  await server.close()
  await node.close()
}

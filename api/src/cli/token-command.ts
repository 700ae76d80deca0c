import { access } from 'node:fs/promises'
import { dataDirPaths, resolveDataDir, VsdbError } from '@vsdb/log'
import { openTokenStore, type Scope } from '../tokens/index.ts'
import type { GlobalOptions } from './commands.ts'
import { printResult } from './output.ts'

async function storeOf(options: GlobalOptions) {
  const dir = resolveDataDir(options.dir)
  try {
    await access(dataDirPaths(dir).config)
  } catch {
    throw new VsdbError('NOT_INITIALIZED', `${dir} is not a vsdb data directory: run \`vsdb init\` first`, { path: dir })
  }
  return openTokenStore(dir)
}

/** Prints the token once: only its hash is kept. */
export async function tokenCreateCommand(options: GlobalOptions & { scope: Scope; label?: string }): Promise<void> {
  const { token, info } = await (await storeOf(options)).create(options.scope, options.label ?? '')
  printResult(options, { ok: true, token, ...info }, () =>
    [token, `(${info.scope} token ${info.id}: shown once, only its hash is stored; send it as "Authorization: Bearer TOKEN")`].join('\n'),
  )
}

export async function tokenListCommand(options: GlobalOptions): Promise<void> {
  const tokens = await (await storeOf(options)).list()
  printResult(options, { ok: true, tokens }, () =>
    tokens.length === 0
      ? 'no tokens'
      : tokens
          .map((t) => `${t.id}  ${t.scope.padEnd(5)}  ${t.created}  ${t.revoked === null ? 'active' : `revoked ${t.revoked}`}  ${t.label}`)
          .join('\n'),
  )
}

export async function tokenRevokeCommand(id: string, options: GlobalOptions): Promise<void> {
  const info = await (await storeOf(options)).revoke(id)
  printResult(options, { ok: true, ...info }, () => `revoked ${info.id} (${info.scope}) at ${info.revoked}`)
}

import type { ReleaseSummary } from '@vsdb/engine'
import { RETENTION_POLICIES, type RetentionPolicy, VsdbError } from '@vsdb/log'
import type { GlobalOptions } from './commands.ts'
import { withNodeAccess } from './node-access.ts'
import { printResult } from './output.ts'

function mib(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}

function releasedLine(released: ReleaseSummary | undefined): string {
  if (released === undefined) return ''
  return `; released ${released.batches} raw batch(es), ${mib(released.bytes)}`
}

/** `vsdb retention`: the policy and what it released so far. */
export async function retentionShowCommand(options: GlobalOptions): Promise<void> {
  await withNodeAccess(options.dir, async (node) => {
    const { policy, releases, batches, bytes, node: id } = await node.retention()
    printResult(
      options,
      { ok: true, node: id, policy, releases, batches, bytes },
      () =>
        `raw retention: ${policy}\n${batches} raw batch(es) released by policy (${mib(bytes)}) in ${releases} release(s); their observations are kept in sealed segments`,
    )
  })
}

/** `vsdb retention set POLICY`: a `retention` event when the policy changes; drop-after-seal releases what is sealed. */
export async function retentionSetCommand(policy: string, options: GlobalOptions): Promise<void> {
  if (!(RETENTION_POLICIES as readonly string[]).includes(policy)) {
    throw new VsdbError('INVALID_INPUT', `POLICY: ${JSON.stringify(policy)} is not one of ${RETENTION_POLICIES.join(', ')}`, {
      field: 'policy',
    })
  }
  await withNodeAccess(options.dir, async (node) => {
    const result = await node.setRetention(policy as RetentionPolicy)
    if (result.released?.error !== undefined) {
      throw new VsdbError(
        'WRITE_FAILED',
        `raw retention is ${result.policy}, but releasing the sealed batches failed: ${result.released.error}`,
      )
    }
    printResult(
      options,
      { ok: true, ...result },
      () => `${result.changed ? 'raw retention set to' : 'raw retention already'} ${result.policy}${releasedLine(result.released)}`,
    )
  })
}

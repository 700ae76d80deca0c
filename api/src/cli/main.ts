import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import {
  auditCommand,
  digestCommand,
  exportCommand,
  type GlobalOptions,
  importCommand,
  ingestCommand,
  initCommand,
  type QueryCommandOptions,
  queryCommand,
  readCommand,
  replayCommand,
  statusCommand,
} from './commands.ts'
import { printError } from './output.ts'
import { retentionSetCommand, retentionShowCommand } from './retention-command.ts'
import { type ServeOptions, serveCommand } from './serve-command.ts'
import { tokenCreateCommand, tokenListCommand, tokenRevokeCommand } from './token-command.ts'

function positiveText(name: string) {
  return (value: string): string => {
    if (value.trim() === '') throw new InvalidArgumentError(`${name} must not be empty`)
    return value
  }
}

function buildProgram(): Command {
  const program = new Command('vsdb')
    .description('VectorScaleDB node: a signed, CID-linked event log of entity behaviour over time')
    .option('--dir <DIR>', 'data directory (default: $VSDB_DIR, else ./.vsdb)')
    .option('--json', 'print one JSON object on the last line of stdout')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) })

  const globals = (command: Command): GlobalOptions => command.optsWithGlobals<GlobalOptions>()

  program
    .command('init')
    .description('create the node key, config and genesis event')
    .addOption(new Option('--role <ROLE>', 'node role').choices(['edge', 'coordinator']).default('edge'))
    .option('--cluster <ID>', 'cluster id', positiveText('--cluster'))
    .addOption(
      new Option(
        '--raw <POLICY>',
        'raw retention: keep the ingest batches, or drop them once their segments are sealed (default keep)',
      ).choices(['keep', 'drop-after-seal']),
    )
    .action((_opts, command: Command) => initCommand(globals(command)))

  program
    .command('ingest')
    .description('append observations from CSV or JSONL files')
    .argument('<FILE...>', 'CSV (timestamp + numeric columns) or JSONL ({entity, ts, vector, meta?}) files')
    .option('--entity <ID>', 'entity id (default: the file name without extension)', positiveText('--entity'))
    .addOption(new Option('--format <FORMAT>', 'input format (default: from the extension)').choices(['csv', 'jsonl']))
    .action((files: string[], _opts, command: Command) => ingestCommand(files, globals(command)))

  program
    .command('status')
    .description('the /v1/cluster/status object')
    .action((_opts, command: Command) => statusCommand(globals(command)))

  program
    .command('query')
    .description('k nearest segments by centroid, filtered inside the search')
    .option('--vector <JSON>', 'query vector, a JSON array of numbers')
    .option('--like <SEGMENT_CID>', 'use this segment as the query (it is left out of the results)')
    .option('-k <N>', 'how many segments', '10')
    .option('--entity <ID>', 'only this entity')
    .option('--from <T>', 'segments overlapping from this time (epoch ms or ISO 8601)')
    .option('--to <T>', 'segments overlapping up to this time')
    .option('--min-anomaly <X>', 'only segments scoring at least X (0..1)')
    .option('--regime <R>', 'only this regime label')
    .action((_opts, command: Command) => queryCommand(globals(command) as QueryCommandOptions))

  program
    .command('digest')
    .description('sha-256 of the live projection state')
    .action((_opts, command: Command) => digestCommand(globals(command)))

  program
    .command('replay')
    .description('rebuild the projections from the log alone; prints {events, digest}')
    .option('--into <DIR>', 'write the rebuilt projections (a checkpoint) into DIR')
    .action((_opts, command: Command) => replayCommand(globals(command) as GlobalOptions & { into?: string }))

  program
    .command('read')
    .description('decoded observations of an entity (sealed segments within their error bound, then the open one)')
    .requiredOption('--entity <ID>', 'entity id', positiveText('--entity'))
    .option('--from <T>', 'from this time (epoch ms or ISO 8601)')
    .option('--to <T>', 'up to this time (epoch ms or ISO 8601)')
    .addOption(new Option('--format <FORMAT>', 'output format').choices(['csv', 'jsonl']).default('csv'))
    .action((_opts, command: Command) =>
      readCommand(globals(command) as GlobalOptions & { entity: string; from?: string; to?: string; format?: 'csv' | 'jsonl' }),
    )

  program
    .command('audit')
    .description('verify every block, signature and link; exit 1 naming the first bad CID')
    .action((_opts, command: Command) => auditCommand(globals(command)))

  const retention = program
    .command('retention')
    .description('raw retention: the policy for ingest batches once sealed, and what it released')
    .action((_opts, command: Command) => retentionShowCommand(globals(command)))
  retention
    .command('set')
    .description('set the policy (a retention event); drop-after-seal releases the batches already sealed')
    .argument('<POLICY>', 'keep | drop-after-seal')
    .action((policy: string, _opts, command: Command) => retentionSetCommand(policy, globals(command)))

  program
    .command('export')
    .description('write a CARv1 of all blocks rooted at the heads')
    .requiredOption('--car <FILE>', 'output CAR file')
    .action((_opts, command: Command) => exportCommand(globals(command) as GlobalOptions & { car: string }))

  program
    .command('import')
    .description('verify a CAR and import its chains; writes nothing unless all of it verifies')
    .requiredOption('--car <FILE>', 'input CAR file')
    .action((_opts, command: Command) => importCommand(globals(command) as GlobalOptions & { car: string }))

  program
    .command('serve')
    .description('serve the node: tRPC over HTTP and WebSocket, REST, the IPFS gateway and the dashboard, on one port')
    .option('--port <N>', 'port (0: any free one)', '7300')
    .option('--host <HOST>', 'address to bind (default 127.0.0.1: this machine only; 0.0.0.0 widens it)', '127.0.0.1')
    .option('--print-token', 'create a read token and print it with the dashboard URL')
    .action((_opts, command: Command) => serveCommand(globals(command) as ServeOptions))

  const token = program.command('token').description('bearer tokens for the API (stored hashed)')
  token
    .command('create')
    .description('create a token; it is printed once')
    .addOption(new Option('--scope <SCOPE>', 'what it may do').choices(['read', 'write', 'admin']).makeOptionMandatory())
    .option('--label <TEXT>', 'a note to tell tokens apart')
    .action((_opts, command: Command) =>
      tokenCreateCommand(globals(command) as GlobalOptions & { scope: 'read' | 'write' | 'admin'; label?: string }),
    )
  token
    .command('list')
    .description('tokens (never their secrets)')
    .action((_opts, command: Command) => tokenListCommand(globals(command)))
  token
    .command('revoke')
    .description('revoke a token (it stays listed, marked revoked)')
    .argument('<ID>', 'token id (from token list)')
    .action((id: string, _opts, command: Command) => tokenRevokeCommand(id, globals(command)))

  return program
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram()
  try {
    await program.parseAsync(argv)
    return 0
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return 0
      return 2
    }
    printError({ json: argv.includes('--json') }, err)
    return 1
  }
}

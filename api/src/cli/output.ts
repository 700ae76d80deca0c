import { isVsdbError } from '@vsdb/log'

export interface OutputOptions {
  json?: boolean
}

/** Human lines on a normal run; with --json one JSON object as the last line of stdout. */
export function printResult(options: OutputOptions, result: object, human: () => string): void {
  if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`)
  else process.stdout.write(`${human()}\n`)
}

/** One line on stderr naming the problem (and the JSON error object on stdout with --json). */
export function printError(options: OutputOptions, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err)
  const code = isVsdbError(err) ? err.code : 'INTERNAL'
  const details = isVsdbError(err) ? err.details : {}
  process.stderr.write(`vsdb: ${message.split('\n')[0]}\n`)
  if (options.json) process.stdout.write(`${JSON.stringify({ ok: false, error: { code, message, ...details } })}\n`)
}

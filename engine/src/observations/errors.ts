import { VsdbError } from '@vsdb/log'

/** Where in an input file a problem is: a line, and a CSV column or a JSONL field. */
export interface InputLocation {
  /** The position of an observation in an in-memory list (API batches), shown as `observations[3]`. */
  index?: number
  line?: number
  column?: string
  field?: string
}

/**
 * The `INVALID_INPUT` error for a bad input file, with a message naming file, line and column/field:
 * `data.csv line 17 column "value": "abc" is not a number`. details: {file, line, column, field}.
 */
export function inputError(file: string, where: InputLocation, problem: string, cause?: unknown): VsdbError {
  let message = where.index === undefined ? file : `${file}[${where.index}]`
  if (where.line !== undefined) message += ` line ${where.line}`
  if (where.column !== undefined) message += ` column "${where.column}"`
  else if (where.field !== undefined) message += ` field "${where.field}"`
  message += `: ${problem}`
  const details = { file, index: where.index, line: where.line, column: where.column, field: where.field ?? where.column }
  return new VsdbError('INVALID_INPUT', message, details, cause === undefined ? undefined : { cause })
}

/** A cell or value quoted for an error message, shortened when long. */
export function quote(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)
}

/** Errors from the file system (missing file, directory, permissions) as a VsdbError naming the file. */
export function fileError(file: string, err: unknown): VsdbError | undefined {
  if (err === null || typeof err !== 'object' || !('code' in err) || !('syscall' in err)) return undefined
  const code = String((err as { code: unknown }).code)
  if (code === 'ENOENT') return new VsdbError('NOT_FOUND', `${file}: no such file`, { file }, { cause: err })
  const reason = code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : `cannot be read (${code})`
  return new VsdbError('INVALID_INPUT', `${file}: ${reason}`, { file }, { cause: err })
}

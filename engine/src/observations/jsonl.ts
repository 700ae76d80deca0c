import { createReadStream } from 'node:fs'
import { z } from 'zod'
import type { ReadContext } from './context.ts'
import { checkTimestampRange, unparseableTimestamp } from './context.ts'
import { type InputLocation, inputError, quote } from './errors.ts'
import { timestampParserFor } from './timestamp.ts'
import type { Observation } from './types.ts'

/** One JSONL line. Unknown keys are rejected (a misspelt `ts` must not pass silently). */
export const observationRowSchema = z.strictObject({
  entity: z.string().min(1).optional(),
  ts: z.union([z.number(), z.string()], {
    error: 'expected epoch milliseconds (a number) or an ISO 8601 string',
  }),
  vector: z.array(z.number()).min(1),
  meta: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string, number or boolean' })).optional(),
})

export type JsonlRow = z.infer<typeof observationRowSchema>

/**
 * Split a byte stream into lines without ever holding more than `maxLineBytes` of one line: a longer line
 * fails as soon as the limit is passed, whatever its full length. Yields the complete lines of each chunk read
 * (every line, blank ones included, so the consumer can number them; a trailing `\r` is left in place).
 */
async function* lines(ctx: ReadContext): AsyncGenerator<string[]> {
  const max = ctx.maxLineBytes
  const tooLong = (line: number) =>
    inputError(ctx.file, { line }, `line is longer than ${max} bytes (the maximum line length); is this really JSONL?`)
  let parts: Buffer[] = []
  let partsLen = 0
  let line = 0
  const input = createReadStream(ctx.file, { highWaterMark: 256 * 1024 })
  if (ctx.onBytes !== undefined) {
    const report = ctx.onBytes
    input.on('data', () => report(input.bytesRead))
  }
  for await (const chunk of input as AsyncIterable<Buffer>) {
    const complete: string[] = []
    let start = 0
    for (;;) {
      const nl = chunk.indexOf(10, start)
      if (nl === -1) {
        const rest = chunk.length - start
        if (partsLen + rest > max) throw tooLong(line + 1)
        if (rest > 0) {
          parts.push(chunk.subarray(start))
          partsLen += rest
        }
        break
      }
      line++
      const len = partsLen + nl - start
      if (len > max) throw tooLong(line)
      let text: string
      if (partsLen === 0) {
        text = chunk.toString('utf8', start, nl)
      } else {
        parts.push(chunk.subarray(start, nl))
        text = Buffer.concat(parts, len).toString('utf8')
        parts = []
        partsLen = 0
      }
      complete.push(text)
      start = nl + 1
    }
    if (complete.length > 0) yield complete
  }
  if (partsLen > 0) yield [Buffer.concat(parts, partsLen).toString('utf8')]
}

/** The path of a zod issue as a field name (`vector.2`, `meta.speed`); undefined for the line as a whole. */
function fieldOf(path: readonly PropertyKey[]): string | undefined {
  return path.length === 0 ? undefined : path.map(String).join('.')
}

/**
 * A row the schema would take as it is, checked without it: an object of `entity` (a non-empty string, or absent),
 * a finite number `ts` and a non-empty vector of finite numbers, and no other key (inherited ones included, as zod's
 * strict object counts them), no `meta`. The vector is copied, as the schema's parse copies it: the caller's array is
 * not kept.
 * Anything else is undefined, for the schema to take or refuse with its own words. ~1.5 µs a row less than the
 * schema (a tenth of an ingest's time).
 */
function plainRow(value: unknown): JsonlRow | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  for (const key in value) if (key !== 'entity' && key !== 'ts' && key !== 'vector') return undefined
  // Read as the schema reads them, inherited or not enumerable: a `meta` there is the schema's to take or refuse.
  const { entity, ts, vector, meta } = value as { entity?: unknown; ts?: unknown; vector?: unknown; meta?: unknown }
  if (meta !== undefined) return undefined
  if (entity !== undefined && (typeof entity !== 'string' || entity.length === 0)) return undefined
  if (typeof ts !== 'number' || !Number.isFinite(ts) || !Array.isArray(vector) || vector.length === 0) return undefined
  // Each value read once, into a plain array of our own (as the schema builds one), whatever the caller's array is.
  const copy: number[] = []
  for (let i = 0; i < vector.length; i++) {
    const x: unknown = vector[i]
    if (typeof x !== 'number' || !Number.isFinite(x)) return undefined
    copy.push(x)
  }
  return entity === undefined ? { ts, vector: copy } : { entity, ts, vector: copy }
}

/** The row as the schema parses it, or its first issue thrown as an input error naming the field. */
function schemaRow(ctx: ReadContext, value: unknown, where: InputLocation): JsonlRow {
  const parsed = observationRowSchema.safeParse(value)
  if (!parsed.success) {
    // An unknown key is reported first: `"tss": 1` is better explained as a typo than as a missing `ts`.
    const issues = parsed.error.issues
    const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]
    let field = issue === undefined ? undefined : fieldOf(issue.path)
    let problem = issue?.message ?? 'invalid row'
    if (issue?.code === 'unrecognized_keys') {
      field = fieldOf([...issue.path, issue.keys[0] ?? ''])
      problem = `unknown key ${issue.keys.map((k) => `"${k}"`).join(', ')} (allowed: entity, ts, vector, meta)`
    } else if (issue?.code === 'invalid_type' && issue.path.length === 0) {
      problem = 'expected a JSON object {entity?, ts, vector, meta?}'
    }
    throw inputError(ctx.file, { ...where, field }, problem, parsed.error)
  }
  return parsed.data
}

/**
 * One parsed JSON value as an observation: schema, entity (the row's, else the context's), timestamp and its
 * range, and the entity's dimension (checked against and recorded in `ctx.dims`). Errors name `where`.
 */
export function observationOf(ctx: ReadContext, value: unknown, where: InputLocation): Observation {
  const row = plainRow(value) ?? schemaRow(ctx, value, where)
  const entity = row.entity ?? ctx.entity
  if (entity === undefined) {
    throw inputError(ctx.file, { ...where, field: 'entity' }, 'no "entity" in the row and no --entity given')
  }
  let ts: number
  if (typeof row.ts === 'number') {
    if (!Number.isSafeInteger(row.ts)) {
      throw inputError(ctx.file, { ...where, field: 'ts' }, `${row.ts} is not an integer number of epoch milliseconds`)
    }
    ts = row.ts
  } else {
    ctx.parseTsString ??= timestampParserFor(row.ts)
    const parsedTs = ctx.parseTsString(row.ts)
    if (parsedTs === undefined) unparseableTimestamp(ctx, row.ts, { ...where, field: 'ts' })
    ts = parsedTs
  }
  checkTimestampRange(ctx, ts, String(row.ts), { ...where, field: 'ts' })
  const dim = row.vector.length
  const known = ctx.dims.get(entity)
  if (known === undefined) ctx.dims.set(entity, dim)
  else if (known !== dim) {
    throw inputError(
      ctx.file,
      { ...where, field: 'vector' },
      `vector dimension changed for entity ${quote(entity)}: expected ${known}, got ${dim}`,
    )
  }
  const obs: Observation = { entity, ts, vector: row.vector }
  if (row.meta !== undefined) obs.meta = row.meta
  return obs
}

/** Stream a JSONL file: one `{entity?, ts, vector, meta?}` object per line, validated with zod. Blank lines are skipped. */
export async function* readJsonl(ctx: ReadContext): AsyncGenerator<Observation[]> {
  let batch: Observation[] = []
  let rows = 0
  let line = 0
  for await (const chunkLines of lines(ctx)) {
    for (const raw of chunkLines) {
      line++
      let text = line === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw
      if (text.endsWith('\r')) text = text.slice(0, -1)
      if (text.trim() === '') continue
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch (err) {
        throw inputError(ctx.file, { line }, `not valid JSON (${(err as Error).message})`, err)
      }
      const obs = observationOf(ctx, value, { line })
      rows++
      if (ctx.validateOnly === true) continue
      batch.push(obs)
      if (batch.length >= ctx.batchSize) {
        yield batch
        batch = []
      }
    }
  }
  if (rows === 0) throw inputError(ctx.file, {}, 'the file is empty (expected one JSON object per line)')
  if (batch.length > 0) yield batch
}

import { hash, randomBytes, timingSafeEqual } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { mkdir, open, rename } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { VsdbError } from '@vsdb/log'
import { z } from 'zod'

export const SCOPES = ['read', 'write', 'admin'] as const
export type Scope = (typeof SCOPES)[number]

/** admin ⊇ write ⊇ read. */
export function scopeAllows(held: Scope, needed: Scope): boolean {
  return SCOPES.indexOf(held) >= SCOPES.indexOf(needed)
}

const recordSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9]{12}$/),
  scope: z.enum(SCOPES),
  label: z.string().max(128),
  /** sha-256 of the secret, hex: the token itself is never stored. */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  created: z.string(),
  /** Revoking keeps the record (nothing is deleted) and marks when. */
  revoked: z.string().nullable(),
})
const fileSchema = z.strictObject({ format: z.literal(1), tokens: z.array(recordSchema) })

export type TokenRecord = z.infer<typeof recordSchema>
export type TokenInfo = Omit<TokenRecord, 'hash'>
export interface Principal {
  id: string
  scope: Scope
}

export interface TokenStore {
  /** Makes a token; the secret is in the returned string only, never on disk. */
  create(scope: Scope, label?: string): Promise<{ token: string; info: TokenInfo }>
  list(): Promise<TokenInfo[]>
  revoke(id: string): Promise<TokenInfo>
  /** The principal a bearer token stands for, or null (unknown, malformed or revoked). Constant time in the secret. */
  verify(token: string): Principal | null
  /**
   * A number that changes whenever what `verify` answers may change (the token file was replaced, written or
   * removed, or a token was made in this process): a caller may keep a token's principal while it stays the same.
   * A stat of the file; it never reads or parses it, and never throws.
   */
  version?(): number
  /** A token that lives in this process only (the running node's own key for local CLI calls). */
  ephemeral(scope: Scope): string
}

const TOKEN_PATTERN = /^vsdb_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/
const sha256 = (text: string): Buffer => hash('sha256', text, 'buffer')

class FileTokenStore implements TokenStore {
  readonly #path: string
  #cache: { stamp: string; records: TokenRecord[] } | null = null
  readonly #ephemeral = new Map<string, { hash: Buffer; scope: Scope }>()
  #version = 0
  #seen = ''

  constructor(path: string) {
    this.#path = path
  }

  /**
   * Re-read when the file changed, so tokens made by `vsdb token create` work on a running node at once. Synchronous
   * (a stat, and a read of a few KiB only when the file changed): it runs on a request's path, where each trip
   * through libuv's thread pool or the microtask queue costs more than the check itself.
   */
  #records(): TokenRecord[] {
    const stamp = fileStamp(this.#path)
    if (stamp === null) return []
    if (this.#cache !== null && this.#cache.stamp === stamp) return this.#cache.records
    let parsed: z.infer<typeof fileSchema>
    try {
      parsed = fileSchema.parse(JSON.parse(readFileSync(this.#path, 'utf8')))
    } catch (err) {
      throw new VsdbError('INVALID_INPUT', `${this.#path} is not a valid token file: ${(err as Error).message}`, { path: this.#path })
    }
    this.#cache = { stamp, records: parsed.tokens }
    return parsed.tokens
  }

  async #write(records: TokenRecord[]): Promise<void> {
    await mkdir(dirname(this.#path), { recursive: true })
    const tmp = `${this.#path}.${process.pid}.tmp`
    const file = await open(tmp, 'w', 0o600)
    try {
      await file.writeFile(`${JSON.stringify({ format: 1, tokens: records }, null, 2)}\n`)
      await file.sync()
    } finally {
      await file.close()
    }
    await rename(tmp, this.#path)
    this.#cache = null
  }

  async create(scope: Scope, label = ''): Promise<{ token: string; info: TokenInfo }> {
    if (!SCOPES.includes(scope))
      throw new VsdbError('INVALID_INPUT', `scope must be read, write or admin, not ${scope}`, { field: 'scope' })
    const id = randomBytes(8).readBigUInt64BE().toString(36).padStart(13, '0').slice(-12)
    const secret = randomBytes(32).toString('base64url')
    const token = `vsdb_${id}_${secret}`
    const record: TokenRecord = {
      id,
      scope,
      label,
      hash: sha256(token).toString('hex'),
      created: new Date().toISOString(),
      revoked: null,
    }
    await this.#write([...this.#records(), record])
    const { hash: _, ...info } = record
    return { token, info }
  }

  async list(): Promise<TokenInfo[]> {
    return this.#records().map(({ hash: _, ...info }) => info)
  }

  async revoke(id: string): Promise<TokenInfo> {
    const records = this.#records()
    const record = records.find((r) => r.id === id)
    if (record === undefined) throw new VsdbError('NOT_FOUND', `no token ${id}`, { field: 'id' })
    const updated = { ...record, revoked: record.revoked ?? new Date().toISOString() }
    await this.#write(records.map((r) => (r.id === id ? updated : r)))
    const { hash: _, ...info } = updated
    return info
  }

  verify(token: string): Principal | null {
    const match = TOKEN_PATTERN.exec(token)
    if (match === null) return null
    const id = match[1] as string
    const presented = sha256(token)
    const ephemeral = this.#ephemeral.get(id)
    if (ephemeral !== undefined) return timingSafeEqual(presented, ephemeral.hash) ? { id, scope: ephemeral.scope } : null
    const record = this.#records().find((r) => r.id === id)
    if (record === undefined) return null
    const equal = timingSafeEqual(presented, Buffer.from(record.hash, 'hex'))
    return equal && record.revoked === null ? { id, scope: record.scope } : null
  }

  version(): number {
    const stamp = fileStamp(this.#path) ?? 'missing'
    if (stamp !== this.#seen) {
      this.#seen = stamp
      this.#version++
    }
    return this.#version
  }

  ephemeral(scope: Scope): string {
    const id = randomBytes(8).readBigUInt64BE().toString(36).padStart(13, '0').slice(-12)
    const token = `vsdb_${id}_${randomBytes(32).toString('base64url')}`
    this.#ephemeral.set(id, { hash: sha256(token), scope })
    this.#version++
    return token
  }
}

/**
 * What identifies the file's content without reading it, or null when there is none: a write goes to a new file
 * renamed into place (a new inode), and an edit in place changes its size, mtime or ctime (which no tool can set back).
 */
function fileStamp(path: string): string | null {
  try {
    // No exception for a missing file: a node without a token file asks on every request (~8 µs to throw one).
    const stats = statSync(path, { throwIfNoEntry: false })
    return stats === undefined ? null : `${stats.ino} ${stats.size} ${stats.mtimeMs} ${stats.ctimeMs}`
  } catch {
    return null
  }
}

/** The bearer tokens of a data directory, in `DIR/tokens.json` (mode 0600; hashes only). */
export function openTokenStore(dataDir: string): TokenStore {
  return new FileTokenStore(join(dataDir, 'tokens.json'))
}

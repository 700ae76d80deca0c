import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openTokenStore, scopeAllows } from '../src/tokens/index.ts'

const dirs: string[] = []
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
})

describe('token store', () => {
  it('keeps only hashes on disk (mode 0600), verifies the token it printed, and refuses near misses and revoked tokens', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vsdb-tokens-'))
    dirs.push(dir)
    const store = openTokenStore(dir)
    const { token, info } = await store.create('write', 'ci')
    expect(token).toMatch(/^vsdb_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/)
    const file = await readFile(join(dir, 'tokens.json'), 'utf8')
    expect(file).not.toContain(token.slice(18))
    expect((await stat(join(dir, 'tokens.json'))).mode & 0o777).toBe(0o600)
    expect(await store.verify(token)).toEqual({ id: info.id, scope: 'write' })
    // A second store on the same file (another process, e.g. `vsdb token create` beside `vsdb serve`) agrees.
    expect(await openTokenStore(dir).verify(token)).toEqual({ id: info.id, scope: 'write' })

    const flipped = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A')
    expect(await store.verify(flipped)).toBeNull()
    expect(await store.verify(`${token}x`)).toBeNull()
    expect(await store.verify('')).toBeNull()
    expect(await store.verify(token.replace(info.id, 'zzzzzzzzzzzz'))).toBeNull()

    const revoked = await store.revoke(info.id)
    expect(revoked.revoked).not.toBeNull()
    expect(await store.verify(token)).toBeNull()
    expect((await store.list()).map((t) => ({ id: t.id, revoked: t.revoked !== null }))).toEqual([{ id: info.id, revoked: true }])
    await expect(store.revoke('nosuchtoken0')).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })

  it('orders scopes read ⊂ write ⊂ admin, and keeps a process-only token off disk', async () => {
    expect(scopeAllows('admin', 'write')).toBe(true)
    expect(scopeAllows('write', 'read')).toBe(true)
    expect(scopeAllows('read', 'write')).toBe(false)
    expect(scopeAllows('write', 'admin')).toBe(false)
    const dir = await mkdtemp(join(tmpdir(), 'vsdb-tokens-'))
    dirs.push(dir)
    const store = openTokenStore(dir)
    const token = store.ephemeral('admin')
    expect((await store.verify(token))?.scope).toBe('admin')
    expect(await openTokenStore(dir).verify(token)).toBeNull()
    await expect(stat(join(dir, 'tokens.json'))).rejects.toThrow()
  })
})

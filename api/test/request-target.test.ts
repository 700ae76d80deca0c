import { describe, expect, it } from 'vitest'
import { plainTarget } from '../src/server/request-target.ts'

/** What a URL reads of `target`: the path, and for each name the first value and whether it is there. */
function asUrlReads(target: string, names: string[]) {
  const url = new URL(target, 'http://localhost')
  return { pathname: url.pathname, values: names.map((n) => [url.searchParams.get(n), url.searchParams.has(n)]) }
}
function asPlainReads(target: string, names: string[]) {
  const plain = plainTarget(target, '/trpc/')
  if (plain === null) return null
  return { pathname: plain.pathname, values: names.map((n) => [plain.searchParams.get(n), plain.searchParams.has(n)]) }
}

describe('plainTarget', () => {
  it('reads what the client links send as a URL would', () => {
    const input = encodeURIComponent(JSON.stringify({ vector: [1.5, -2e-7, 3], k: 10, entity: 'é a+b&c=d' }))
    const batch = encodeURIComponent(JSON.stringify({ 0: { k: 1 }, 1: { cid: 'bafy' } }))
    for (const target of [
      `/trpc/query?input=${input}`,
      `/trpc/query,segments?batch=1&input=${batch}`,
      '/trpc/counts',
      '/trpc/tokens.list?',
    ]) {
      const names = ['input', 'batch', 'other']
      expect(asPlainReads(target, names)).toEqual(asUrlReads(target, names))
    }
  })

  it('leaves to a URL what it does not read the same way', () => {
    for (const target of [
      '/v1/cluster/status',
      '/trpc',
      '/trpc/a/b',
      '/trpc/..',
      '/trpc/%2E%2e?input=1',
      '/trpc/a\\b',
      '/trpc/query?input=%zz',
      '/trpc/query?input=%C3',
      '/trpc/query?input=1#x',
    ]) {
      expect(plainTarget(target, '/trpc/')).toBeNull()
    }
  })

  it('agrees with a URL on every target it reads, over random targets', () => {
    // Every printable ASCII character, and the escapes and letters that decode to the ones that matter here.
    const printable = Array.from({ length: 0x7e - 0x20 }, (_, i) => String.fromCharCode(0x21 + i))
    const pieces = [...printable, 'input', 'batch', '%2B', '%26', '%3D', '%20', '%25', '%C3%A9', '%e9', '%2e', '%2F', 'é', ' ']
    let seed = 7
    const rand = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
      // The high bits: a power-of-two LCG's low bits repeat with a short period.
      return Math.floor((seed / 2_147_483_648) * n)
    }
    let read = 0
    for (let i = 0; i < 20_000; i++) {
      let target = '/trpc/'
      for (let j = rand(16); j > 0; j--) target += pieces[rand(pieces.length)]
      const names = ['a', 'input', 'batch', 'a+', 'a ', '', '1']
      const plain = asPlainReads(target, names)
      if (plain === null) continue
      read++
      expect(plain, target).toEqual(asUrlReads(target, names))
    }
    // Most random targets are plain enough to be read here; the rest went to a URL.
    expect(read).toBeGreaterThan(2_000)
  })
})

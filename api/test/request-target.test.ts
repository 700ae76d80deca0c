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
    const pieces = [
      'a',
      'input',
      'batch',
      '=',
      '&',
      '+',
      '%',
      '%2B',
      '%26',
      '%3D',
      '%20',
      '%C3%A9',
      '%e9',
      'é',
      '.',
      '/',
      '?',
      '#',
      ',',
      '1',
      '%2e',
      ' ',
      '"',
    ]
    let seed = 7
    const rand = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
      return seed % n
    }
    let read = 0
    for (let i = 0; i < 5_000; i++) {
      let target = '/trpc/'
      for (let j = rand(14); j > 0; j--) target += pieces[rand(pieces.length)]
      const names = ['a', 'input', 'batch', 'a+', 'a ', '', '1']
      const plain = asPlainReads(target, names)
      if (plain === null) continue
      read++
      expect(plain, target).toEqual(asUrlReads(target, names))
    }
    // Most random targets are plain enough to be read here; the rest went to a URL.
    expect(read).toBeGreaterThan(1_000)
  })
})

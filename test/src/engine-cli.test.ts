import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectCliError, expectCliOk, NYC_TAXI, vsdb } from './cli-helpers.ts'

/** nyc_taxi.csv as [epoch ms, value] rows (NAB: `YYYY-MM-DD HH:MM:SS` in UTC). */
async function original(): Promise<[number, number][]> {
  const lines = (await readFile(NYC_TAXI, 'utf8')).trim().split('\n').slice(1)
  return lines.map((line) => {
    const [ts, value] = line.split(',')
    return [Date.parse(`${(ts as string).replace(' ', 'T')}Z`), Number(value)]
  })
}

describe('vsdb segments, query, read, digest and replay', () => {
  let root: string
  let dir: string
  let digest: string

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'vsdb-engine-cli-'))
    dir = join(root, 'node')
    expectCliOk(await vsdb(dir, ['init']))
    const ingest = expectCliOk(await vsdb(dir, ['ingest', NYC_TAXI]))
    expect(ingest).toMatchObject({ rows: 10320, entities: ['nyc_taxi'] })
    expect(ingest.segments as number).toBeGreaterThan(30)
    digest = expectCliOk(await vsdb(dir, ['digest'])).digest as string
  }, 60_000)

  afterAll(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('reads every observation back within the lossy bound (1 % of the range)', async () => {
    const rows = await original()
    const run = await vsdb(dir, ['read', '--entity', 'nyc_taxi', '--format', 'jsonl'])
    expectCliOk(run)
    const read = run.stdout
      .trim()
      .split('\n')
      .slice(0, -1)
      .map((line) => JSON.parse(line) as { ts: number; vector: number[] })
    expect(read).toHaveLength(rows.length)
    const values = rows.map(([, v]) => v)
    const bound = 0.01 * (Math.max(...values) - Math.min(...values))
    let worst = 0
    for (const [i, [ts, value]] of rows.entries()) {
      expect(read[i]?.ts).toBe(ts)
      worst = Math.max(worst, Math.abs((read[i]?.vector[0] as number) - value))
    }
    expect(worst).toBeLessThanOrEqual(bound)
    expect(worst).toBeGreaterThan(0) // lossy indeed: values were quantised
  })

  it('finds segments like a given one, with filters, and says what is wrong with a bad query', async () => {
    const any = expectCliOk(await vsdb(dir, ['query', '--vector', '[15000]', '-k', '1']))
    const [first] = any.hits as { cid: string; entity: string; anomaly: number }[]
    expect(first?.entity).toBe('nyc_taxi')
    const like = expectCliOk(await vsdb(dir, ['query', '--like', first!.cid, '-k', '5']))
    const hits = like.hits as { cid: string; distance: number }[]
    expect(hits).toHaveLength(5)
    expect(hits.map((h) => h.cid)).not.toContain(first!.cid)
    expect(hits.map((h) => h.distance)).toEqual([...hits.map((h) => h.distance)].sort((a, b) => a - b))
    const anomalous = expectCliOk(await vsdb(dir, ['query', '--vector', '[15000]', '-k', '50', '--min-anomaly', '0.5']))
    for (const hit of anomalous.hits as { anomaly: number }[]) expect(hit.anomaly).toBeGreaterThanOrEqual(0.5)
    const ranged = expectCliOk(await vsdb(dir, ['query', '--vector', '[15000]', '-k', '50', '--from', '2014-11-01', '--to', '2014-11-30']))
    for (const hit of ranged.hits as { from: number; to: number }[]) {
      expect(hit.to).toBeGreaterThanOrEqual(Date.parse('2014-11-01T00:00:00Z'))
      expect(hit.from).toBeLessThanOrEqual(Date.parse('2014-11-30T00:00:00Z'))
    }

    expectCliError(await vsdb(dir, ['query', '--vector', '[1]', '-k', '0']), 'INVALID_INPUT')
    expectCliError(await vsdb(dir, ['query', '--vector', '[1]', '-k', '100000000']), 'INVALID_INPUT')
    expectCliError(await vsdb(dir, ['query', '--vector', '[1, 2]']), 'INVALID_INPUT')
    expectCliError(await vsdb(dir, ['query', '--vector', '[1, "x"]']), 'INVALID_INPUT')
    expectCliError(await vsdb(dir, ['query', '--vector', '[1]', '--entity', 'nobody']), 'NOT_FOUND')
    expectCliError(await vsdb(dir, ['query', '--like', 'bafyreigwd2e6kruogiiign4dx4wfulxtezwf3bt5pcgrzhhre7zjtzxeaq']), 'NOT_FOUND')
    // The node is untouched by bad queries.
    expect(expectCliOk(await vsdb(dir, ['digest'])).digest).toBe(digest)
  })

  it('replays to the live digest, from zero and into another directory', async () => {
    const replay = expectCliOk(await vsdb(dir, ['replay', '--into', join(root, 'rebuilt')]))
    expect(replay.digest).toBe(digest)
    expect((await readFile(join(root, 'rebuilt', 'CURRENT'), 'utf8')).startsWith('checkpoint-')).toBe(true)
  })

  it('refuses a file whose dimension differs from the entity’s, writing nothing', async () => {
    const bad = join(root, 'nyc_taxi.csv')
    await writeFile(bad, 'timestamp,a,b\n2015-02-01 00:00:00,1,2\n')
    const error = expectCliError(await vsdb(dir, ['ingest', bad]), 'INVALID_INPUT')
    expect(error.message).toMatch(/dimension/)
    const nan = join(root, 'nan.csv')
    await writeFile(nan, 'timestamp,value\n2015-02-01 00:00:00,NaN\n')
    expectCliError(await vsdb(dir, ['ingest', nan, '--entity', 'nyc_taxi']), 'INVALID_INPUT')
    const future = join(root, 'future.csv')
    await writeFile(future, 'timestamp,value\n2999-01-01 00:00:00,1\n')
    expectCliError(await vsdb(dir, ['ingest', future, '--entity', 'nyc_taxi']), 'INVALID_INPUT')
    expect(expectCliOk(await vsdb(dir, ['digest'])).digest).toBe(digest)
  })
})

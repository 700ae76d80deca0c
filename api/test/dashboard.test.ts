import { existsSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chartSeries, MAX_BUCKETS } from '../dashboard/src/chart-data.ts'
import { createClient } from '../src/client/create-client.ts'
import { type ApiFixture, observations, startFixture } from './api-fixture.ts'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const NAB = fileURLToPath(new URL('../../data/nab', import.meta.url))
const DASHBOARD = fileURLToPath(new URL('../dashboard', import.meta.url))
// Outside CI a machine without Chromium skips the browser test (and says so); in CI it must run, so a missing
// browser fails the launch loudly instead.
const noBrowser = !existsSync(CHROMIUM) && process.env.CI === undefined
if (noBrowser)
  console.warn(
    `dashboard.test.ts: no Chromium at ${CHROMIUM}: the browser test is skipped (apt-get install -y chromium, or set CHROMIUM_PATH)`,
  )

describe('chart data', () => {
  it('downsamples a long series to a few thousand points, keeping every alert and the extremes', () => {
    const rows = Array.from({ length: 50_000 }, (_, i) => ({
      ts: 1_000_000 + i * 60_000,
      vector: [Math.sin(i / 50) + (i === 31_337 ? 9 : 0), i],
    }))
    const alerts = [rows[123]!.ts, rows[31_337]!.ts, rows[49_999]!.ts, 42 /* no such observation */]
    const s = chartSeries(rows, alerts)
    expect(s.total).toBe(50_000)
    expect(s.dims).toBe(2)
    expect(s.drawn).toBeLessThanOrEqual(2 * MAX_BUCKETS + 3)
    expect(s.alerts).toBe(3)
    const [x, first, , marks] = s.data
    expect(x).toHaveLength(s.drawn)
    expect(x.every((t, i) => i === 0 || t > x[i - 1]!)).toBe(true)
    expect(Math.max(...(first as number[]))).toBe(rows[31_337]!.vector[0])
    expect(marks!.filter((m) => m !== null)).toHaveLength(3)
    expect(x).toContain(rows[123]!.ts / 1000)
    // Short series are drawn whole.
    expect(chartSeries(rows.slice(0, 100), []).drawn).toBe(100)
  })
})

describe.skipIf(noBrowser)('dashboard in headless Chromium', () => {
  let f: ApiFixture
  let browser: Browser
  let entities: string[]
  const contexts: BrowserContext[] = []

  beforeAll(async () => {
    // `npm test` builds first (turbo: test depends on build); a bare `vitest run` builds the page if it is missing.
    if (!existsSync(join(DASHBOARD, 'dist', 'index.html'))) await build({ configFile: join(DASHBOARD, 'vite.config.ts'), logLevel: 'warn' })
    const files = (await readdir(NAB)).filter((name) => name.endsWith('.csv')).sort()
    entities = files.map((name) => name.replace(/\.csv$/, ''))
    ;[f, browser] = await Promise.all([
      startFixture(),
      chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] }),
    ])
    await f.node.ingest(files.map((name) => join(NAB, name)))
  }, 60_000)

  afterAll(async () => {
    for (const context of contexts) await context.close()
    await browser?.close()
    await f?.close()
  })

  /** A fresh browser profile (no remembered token), with page errors collected. */
  async function newPage(): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext()
    contexts.push(context)
    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', (err) => errors.push(err.message))
    return { page, errors }
  }

  it('asks for a token when it has none, and says clearly when the node refuses one', async () => {
    const { page, errors } = await newPage()
    await page.goto(`${f.server.url}/`)
    await page.getByTestId('token-prompt').waitFor()
    expect(await page.getByTestId('dashboard').isHidden()).toBe(true)
    await page.getByLabel('Read token').fill('not-a-token')
    await page.getByRole('button', { name: 'Open' }).click()
    await page.getByTestId('token-message').getByText('401').waitFor()
    expect(await page.getByTestId('token-prompt').isVisible()).toBe(true)
    expect(await page.getByTestId('dashboard').isHidden()).toBe(true)
    expect(errors).toEqual([])
  }, 20_000)

  it('shows the bundled entities, their charts and the status, and a segment ingested after load without a reload', async () => {
    const { page, errors } = await newPage()
    await page.goto(`${f.server.url}/#token=${f.tokens.read}`)

    const rows = page.getByTestId('entity-row')
    await rows.nth(entities.length - 1).waitFor()
    expect(await rows.locator('th').allTextContents()).toEqual(entities)
    const first = f.node.views.entities()[0]!
    const firstRow = await rows.first().locator('td').allTextContents()
    expect(firstRow.slice(0, 5)).toEqual([
      String(first.dim),
      first.observations.toLocaleString('en'),
      first.segments.toLocaleString('en'),
      first.maxAnomaly.toFixed(3),
      first.alerts.toLocaleString('en'),
    ])
    // The token leaves the address bar once read (it is remembered instead).
    expect(new URL(page.url()).hash).toBe('')

    const status = JSON.parse((await page.getByTestId('status').textContent()) ?? '')
    expect(status).toMatchObject({
      cluster_id: f.node.log.config.cluster,
      node_count: 1,
      members: [{ node_id: f.node.log.node, entities: entities.length }],
    })
    const segmentCount = f.node.views.counts().segments
    expect(await page.getByTestId('archive-archived-segments').textContent()).toBe(segmentCount.toLocaleString('en'))

    // A uPlot chart per entity, drawn on canvas, with its alerts counted in the caption.
    const charts = page.getByTestId('chart')
    await charts
      .nth(entities.length - 1)
      .locator('canvas')
      .waitFor()
    expect(await charts.evaluateAll((figures) => figures.map((f) => f.getAttribute('data-entity')))).toEqual(entities)
    expect(await charts.first().locator('figcaption').textContent()).toContain(`${first.alerts} alerts`)

    // Recent segments carry their anomaly and alert timestamps.
    expect(await page.getByTestId('segment-row').count()).toBe(50)
    expect(await page.locator('[data-testid="segment-alerts"] time').count()).toBeGreaterThan(0)

    // The segments table narrows to one entity, or to segments with alerts.
    const ec2 = 'ec2_request_latency_system_failure'
    await page.getByLabel('Entity').selectOption(ec2)
    expect(new Set(await page.getByTestId('segment-row').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-entity'))))).toEqual(
      new Set([ec2]),
    )
    expect(await page.getByTestId('segment-row').count()).toBe(f.node.segments({ entity: ec2 }).length)
    await page.getByLabel('only segments with alerts').check()
    expect(await page.getByTestId('segment-row').count()).toBe(f.node.segments({ entity: ec2 }).filter((s) => s.alerts.length > 0).length)
    await page.getByLabel('only segments with alerts').uncheck()
    await page.getByLabel('Entity').selectOption('')

    // Live: once both subscriptions run, a new entity's first segment appears with no reload.
    await page.locator('[data-testid="live"][data-state="live"]').waitFor()
    let navigations = 0
    page.on('framenavigated', () => navigations++)
    const writer = createClient({ url: f.server.url, token: f.tokens.write })
    try {
      const summary = await writer.ingest.mutate({ observations: observations('drone-7', 0, 1_000) })
      expect(summary.segments).toBeGreaterThan(1)
    } finally {
      await writer.close()
    }
    const [sealed] = f.node.segments({ entity: 'drone-7' })
    const liveRow = page.locator(`[data-testid="segment-row"][data-cid="${sealed!.cid}"]`)
    await liveRow.waitFor()
    expect(await liveRow.locator('td').first().textContent()).toBe('drone-7')
    await page.locator('[data-testid="entity-row"][data-entity="drone-7"]').waitFor()
    await page.locator('[data-testid="chart"][data-entity="drone-7"] canvas').waitFor()
    await page.locator('[data-testid="anomaly"][data-entity="drone-7"]').first().waitFor()
    expect(await page.locator('[data-testid="entity-row"][data-entity="drone-7"]').getAttribute('data-anomalous')).toBe('true')
    expect(navigations).toBe(0)

    // k-NN by segment: the new segment's "Similar" button fills the query box and shows the node's own hits.
    await liveRow.getByRole('button', { name: /similar/i }).click()
    const hits = page.getByTestId('query-hit')
    await hits.first().waitFor()
    expect(await page.getByLabel('Segment CID').inputValue()).toBe(sealed!.cid)
    // Only segments of the same dimension are neighbours: drone-7's other segments.
    const expected = f.node.query({ like: sealed!.cid, k: 5 }).map((h) => h.cid)
    expect(expected.length).toBeGreaterThan(0)
    expect(await hits.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-cid')))).toEqual(expected)

    // The token is remembered: the bare URL opens the dashboard again.
    await page.goto(`${f.server.url}/`)
    await page.getByTestId('entity-row').nth(entities.length).waitFor()
    expect(await page.getByTestId('token-prompt').isHidden()).toBe(true)
    expect(errors).toEqual([])
  }, 30_000)
})

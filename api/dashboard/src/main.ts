import './style.css'
import { chartSeries } from './chart-data.ts'
import { byId, el, fixed, tbodyOf, time } from './dom.ts'
import { renderEntities } from './entities-table.ts'
import { EntityCharts } from './entity-charts.ts'
import { type AnomalyEvent, subscribeLive } from './live.ts'
import { QueryBox } from './query-box.ts'
import { SegmentFilterForm } from './segment-filter.ts'
import { SegmentsTable } from './segments-table.ts'
import { renderStatus } from './status-panel.ts'
import { forget, initialToken, remember } from './token.ts'
import { type Alert, connect, type Entity, isUnauthorized, messageOf, type VsdbClient } from './vsdb.ts'

/** Live anomalies at or above this score are listed and highlighted (the engine's default alert threshold). */
const ANOMALY_THRESHOLD = 0.5
const SHOWN_ANOMALIES = 20
const ALL = 100_000

const prompt = byId('token-prompt')
const promptMessage = byId('token-message')
const tokenForm = byId<HTMLFormElement>('token-form')
const tokenInput = byId<HTMLInputElement>('token-input')
const forgetButton = byId<HTMLButtonElement>('forget')
const dashboard = byId('dashboard')
const errorLine = byId('error')
const live = byId('live')
const anomalyList = byId('anomalies')
const anomaliesEmpty = byId('anomalies-empty')
const entitiesBody = tbodyOf('entities')

const charts = new EntityCharts(byId('charts'))
const query = new QueryBox()
const segments = new SegmentsTable(tbodyOf('segments'), (cid) => query.ask(cid))
const segmentFilter = new SegmentFilterForm((filter) => segments.filter(filter))
const flaggedEntities = new Set<string>()

let client: VsdbClient | null = null
let stopLive: (() => void) | null = null
let overviewTimer: ReturnType<typeof setTimeout> | undefined
let overviewWithSegments = false
const chartTimers = new Map<string, ReturnType<typeof setTimeout>>()

/** Opens the dashboard with a token: everything is loaded (batched HTTP requests), then kept live over the WebSocket. */
async function open(token: string): Promise<void> {
  close()
  const opened = connect(token)
  client = opened
  query.use(opened)
  prompt.hidden = true
  setLive('connecting', 'connecting…')
  try {
    await loadAll(opened)
  } catch (err) {
    return fail(err)
  }
  if (client !== opened) return
  dashboard.hidden = false
  forgetButton.hidden = false
  stopLive = subscribeLive(opened, ANOMALY_THRESHOLD, {
    segment: (s) => {
      segments.add(s)
      scheduleOverview()
      scheduleChart(s.entity)
    },
    anomaly: flagAnomaly,
    state: (state) => {
      if (state === 'connecting') return setLive('connecting', 'reconnecting…')
      setLive('live', 'live')
      // What sealed between the first load (or the drop) and the subscriptions starting is fetched once more.
      scheduleOverview(true)
      if (state === 'again') for (const entity of charts.entities()) scheduleChart(entity)
    },
    error: fail,
  })
}

function close(): void {
  stopLive?.()
  stopLive = null
  void client?.close()
  client = null
  query.use(null)
  clearTimeout(overviewTimer)
  for (const timer of chartTimers.values()) clearTimeout(timer)
  chartTimers.clear()
  segments.clear()
  setLive('offline', 'offline')
}

async function loadAll(c: VsdbClient): Promise<void> {
  const [entities, alerts] = await Promise.all([loadOverview(c, true), c.alerts.query({ limit: ALL })])
  const alertsOf = (entity: string) => alerts.filter((a) => a.entity === entity)
  charts.clear()
  await Promise.all(entities.map((e) => loadChart(c, e.entity, alertsOf(e.entity))))
}

/** Entities, archive counts and status (and the segments when asked): refreshed after each burst of new segments. */
async function loadOverview(c: VsdbClient, withSegments = false): Promise<readonly Entity[]> {
  const [entities, status, counts, all] = await Promise.all([
    c.entities.query(),
    c.status.query(),
    c.counts.query(),
    withSegments ? c.segments.query({ limit: ALL }) : Promise.resolve(null),
  ])
  if (client !== c) return entities
  errorLine.hidden = true
  renderEntities(entitiesBody, entities, flaggedEntities)
  segmentFilter.entities(entities.map((e) => e.entity))
  renderStatus(byId('archive'), byId('status'), status, counts)
  if (all !== null) segments.merge(all)
  return entities
}

async function loadChart(c: VsdbClient, entity: string, alerts?: readonly Alert[]): Promise<void> {
  const [rows, entityAlerts] = await Promise.all([
    c.read.query({ entity }),
    alerts === undefined ? c.alerts.query({ entity, limit: ALL }) : Promise.resolve(alerts),
  ])
  if (client !== c) return
  const alertTimes = entityAlerts.map((a) => a.ts)
  charts.show(entity, chartSeries(rows, alertTimes))
}

function scheduleOverview(withSegments = false): void {
  const c = client
  if (c === null) return
  overviewWithSegments ||= withSegments
  clearTimeout(overviewTimer)
  overviewTimer = setTimeout(() => {
    const again = overviewWithSegments
    overviewWithSegments = false
    loadOverview(c, again).catch(fail)
  }, 200)
}

function scheduleChart(entity: string): void {
  const c = client
  if (c === null) return
  clearTimeout(chartTimers.get(entity))
  chartTimers.set(
    entity,
    setTimeout(() => {
      chartTimers.delete(entity)
      loadChart(c, entity).catch(fail)
    }, 300),
  )
}

function flagAnomaly(a: AnomalyEvent): void {
  flaggedEntities.add(a.entity)
  if (a.segment !== null) segments.flag(a.segment)
  entitiesBody.querySelector(`tr[data-entity="${CSS.escape(a.entity)}"]`)?.setAttribute('data-anomalous', 'true')
  anomaliesEmpty.hidden = true
  anomalyList.prepend(
    el('li', { 'data-testid': 'anomaly', 'data-entity': a.entity }, `${a.entity} at `, time(a.ts), `: score ${fixed(a.score, 2)}`),
  )
  while (anomalyList.children.length > SHOWN_ANOMALIES) anomalyList.lastElementChild?.remove()
}

function fail(err: unknown): void {
  if (isUnauthorized(err)) {
    ask('The node refused this token (401 Unauthorized): it is unknown or was revoked. Enter another.')
    return
  }
  errorLine.textContent = `The node did not answer: ${messageOf(err)}`
  errorLine.hidden = false
}

function ask(message: string): void {
  close()
  forget()
  dashboard.hidden = true
  forgetButton.hidden = true
  errorLine.hidden = true
  promptMessage.textContent = message
  prompt.hidden = false
  tokenInput.focus()
}

function setLive(state: 'offline' | 'connecting' | 'live', label: string): void {
  live.dataset.state = state
  live.textContent = label
}

tokenForm.addEventListener('submit', (event) => {
  event.preventDefault()
  const token = tokenInput.value.trim()
  if (token === '') return
  tokenInput.value = ''
  remember(token)
  void open(token)
})
forgetButton.addEventListener('click', () => ask(''))

const token = initialToken()
if (token === null) ask('')
else void open(token)

import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import type { ChartSeries } from './chart-data.ts'
import { el, integer } from './dom.ts'

const COLOURS = ['#1f5fa8', '#2e7d32', '#8e24aa']
const ALERT = '#c62828'
const HEIGHT = 180

interface Chart {
  figure: HTMLElement
  caption: HTMLElement
  plot: uPlot
  dims: number
}

/** One uPlot chart per entity, in a `<figure>` with a caption; resized with the page. */
export class EntityCharts {
  readonly #container: HTMLElement
  readonly #charts = new Map<string, Chart>()

  constructor(container: HTMLElement) {
    this.#container = container
    new ResizeObserver(() => {
      for (const chart of this.#charts.values()) chart.plot.setSize({ width: this.#width(), height: HEIGHT })
    }).observe(container)
  }

  show(entity: string, series: ChartSeries): void {
    const existing = this.#charts.get(entity)
    if (existing !== undefined && existing.dims === series.dims) {
      existing.plot.setData(series.data)
      existing.caption.textContent = captionOf(entity, series)
      return
    }
    existing?.plot.destroy()
    existing?.figure.remove()
    const caption = el('figcaption', {}, captionOf(entity, series))
    const figure = el('figure', { 'data-testid': 'chart', 'data-entity': entity }, caption)
    this.#insert(entity, figure)
    const plot = new uPlot(this.#options(series.dims), series.data, figure)
    this.#charts.set(entity, { figure, caption, plot, dims: series.dims })
  }

  entities(): string[] {
    return [...this.#charts.keys()]
  }

  clear(): void {
    for (const chart of this.#charts.values()) chart.plot.destroy()
    this.#charts.clear()
    this.#container.replaceChildren()
  }

  /** Charts stay in entity order as new entities arrive. */
  #insert(entity: string, figure: HTMLElement): void {
    const after = [...this.#charts.keys()].filter((e) => e > entity).sort()[0]
    const before = after === undefined ? null : (this.#charts.get(after)?.figure ?? null)
    this.#container.insertBefore(figure, before)
  }

  #width(): number {
    return Math.max(320, this.#container.clientWidth - 16)
  }

  #options(dims: number): uPlot.Options {
    const lines: uPlot.Series[] = Array.from({ length: dims }, (_, d) => ({
      label: dims === 1 ? 'value' : `dim ${d}`,
      stroke: COLOURS[d % COLOURS.length],
      width: 1,
      points: { show: false },
    }))
    return {
      width: this.#width(),
      height: HEIGHT,
      scales: { x: { time: true } },
      series: [
        { label: 'time (UTC)' },
        ...lines,
        { label: 'alert', stroke: ALERT, paths: () => null, points: { show: true, size: 8, stroke: ALERT, fill: ALERT } },
      ],
      tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), 'Etc/UTC'),
    }
  }
}

function captionOf(entity: string, series: ChartSeries): string {
  const drawn = series.drawn === series.total ? '' : ` (${integer(series.drawn)} drawn)`
  return `${entity}: ${integer(series.total)} observations${drawn}, ${integer(series.alerts)} alerts`
}

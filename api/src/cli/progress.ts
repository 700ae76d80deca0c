import type { IngestProgress } from '@vsdb/engine'
import { SingleBar } from 'cli-progress'

export interface ProgressDisplay {
  update(progress: IngestProgress): void
  stop(): void
}

/** A progress bar on a TTY (bytes read, rows/s, ETA); nothing when piped or with --json. */
export function createIngestProgress(enabled: boolean): ProgressDisplay {
  if (!enabled) return { update() {}, stop() {} }
  const started = performance.now()
  const bar = new SingleBar({
    format: '{pass} [{bar}] {percentage}% | {rows} rows | {rate} rows/s | ETA {eta_formatted}',
    hideCursor: true,
    stream: process.stderr,
  })
  let running = false
  return {
    update({ rows, fileBytes, totalBytes, pass }) {
      const rate = Math.round(rows / Math.max((performance.now() - started) / 1000, 1e-3))
      if (!running) {
        bar.start(totalBytes, 0, { rows: 0, rate: 0, pass })
        running = true
      }
      bar.update(fileBytes, { rows, rate, pass })
    },
    stop() {
      if (running) bar.stop()
      running = false
    },
  }
}

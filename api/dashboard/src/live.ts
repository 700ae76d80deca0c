import type { Segment, VsdbClient } from './vsdb.ts'

/** `segment` is null while the observation's segment is still open. */
export type AnomalyEvent = { entity: string; segment: string | null; ts: number; score: number }

export interface LiveHandlers {
  segment(segment: Segment): void
  anomaly(event: AnomalyEvent): void
  /** `live` once both subscriptions run; `again` when they run again after a dropped connection (events may be missed). */
  state(state: 'connecting' | 'live' | 'again'): void
  error(err: unknown): void
}

/** The node's WebSocket subscriptions: every new segment, and each observation at or above `threshold`. Returns the stop. */
export function subscribeLive(client: VsdbClient, threshold: number, on: LiveHandlers): () => void {
  const started = new Set<string>()
  let everLive = false
  const onStarted = (name: string) => () => {
    started.add(name)
    if (started.size < 2) return
    on.state(everLive ? 'again' : 'live')
    everLive = true
  }
  const onConnectionStateChange = (s: { state: 'idle' | 'connecting' | 'pending' }) => {
    if (s.state !== 'connecting' || started.size === 0) return
    started.clear()
    on.state('connecting')
  }
  const segments = client.onSegment.subscribe(
    { minAnomaly: 0 },
    { onStarted: onStarted('segments'), onConnectionStateChange, onData: (s) => on.segment(s), onError: (err) => on.error(err) },
  )
  const anomalies = client.onAnomaly.subscribe(
    { threshold },
    { onStarted: onStarted('anomalies'), onConnectionStateChange, onData: (a) => on.anomaly(a), onError: (err) => on.error(err) },
  )
  return () => {
    segments.unsubscribe()
    anomalies.unsubscribe()
  }
}

import { VsdbError } from '@vsdb/log'
import {
  type AnomalyOptions,
  createAnomalyScorer,
  createRegimeTracker,
  restoreAnomalyScorer,
  restoreRegimeTracker,
  segmentFeatures,
} from './anomaly/index.ts'
import {
  type CodecHints,
  codecOf,
  createCodecHints,
  decodeSegment,
  encodeSegment,
  LOSSLESS_CODEC,
  LOSSY_CODEC,
  parseCodecHints,
  snapshotCodecHints,
} from './codec/index.ts'
import type { EngineParts } from './node.ts'

/** Hints from a snapshot, or fresh ones if they do not read: they only save time, and a fresh start is still exact. */
function hintsOrFresh(snapshot: unknown): CodecHints {
  try {
    return parseCodecHints(snapshot)
  } catch {
    return createCodecHints()
  }
}

/**
 * The engine's real parts: per entity a streaming anomaly scorer (whose change points seal segments early)
 * and a regime tracker over segment features; the lossless and error-bounded segment codecs, the latter with the
 * entity's codec hints. All three snapshot to plain data and resume from it exactly (what raw retention records when
 * it releases raw batches).
 */
export function defaultParts(anomaly?: AnomalyOptions): EngineParts {
  return {
    forEntity(_entity, _dim, resume) {
      const saved = resume as { anomaly?: unknown; regime?: unknown; codec?: unknown } | undefined
      const scorer = saved === undefined ? createAnomalyScorer(anomaly) : restoreAnomalyScorer(saved.anomaly)
      const regimes = saved === undefined ? createRegimeTracker() : restoreRegimeTracker(saved.regime)
      // What the codec learned of the entity's columns (codec/hints.ts); resume states written before it was kept
      // have none, and the next segment searches afresh.
      const hints = saved?.codec === undefined ? createCodecHints() : hintsOrFresh(saved.codec)
      // One verdict object per entity, refilled by each observe(): the segmenter reads it at once and keeps nothing.
      const verdict = { score: 0, change: false }
      return {
        snapshot() {
          return {
            anomaly: scorer.snapshot(),
            regime: regimes.snapshot(),
            codec: snapshotCodecHints(hints),
          }
        },
        observe(ts, vector) {
          scorer.observeInto(ts, vector, verdict)
          return verdict
        },
        encode(ts, vectors, errorBound) {
          const bytes =
            errorBound === null
              ? encodeSegment({ ts, vectors }, { codec: LOSSLESS_CODEC })
              : encodeSegment({ ts, vectors }, { codec: LOSSY_CODEC, errorBound, hints })
          return { codec: errorBound === null ? LOSSLESS_CODEC : LOSSY_CODEC, bytes }
        },
        regime(ts, vectors, scores) {
          return regimes.label(segmentFeatures(ts, vectors, scores))
        },
      }
    },
    decode(codec, bytes) {
      const written = codecOf(bytes)
      if (written !== codec)
        throw new VsdbError('CORRUPT_BLOCK', `segment data says codec ${written}, its event says ${codec}`, { field: 'codec' })
      return decodeSegment(bytes)
    },
  }
}

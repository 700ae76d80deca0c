import * as dagCbor from '@ipld/dag-cbor'
import type { EngineParts, EntityParts } from '../src/node.ts'

/**
 * Stand-ins for the model and the codec, for tests about segmenting and the node's bookkeeping (not about
 * scoring or compression): a score from a running mean, DAG-CBOR as a lossless "codec", and a change of
 * regime wherever `changeAt` says. With `resumable`, the running mean snapshots and resumes (as the real model
 * does); without, a resumed entity starts a fresh one.
 */
export function stubParts(changeAt: (ts: number) => boolean = () => false, options: { resumable?: boolean } = {}): EngineParts {
  return {
    forEntity(_entity, _dim, resume): EntityParts {
      const saved = resume as { n: number; mean: number } | undefined
      let n = saved?.n ?? 0
      let mean = saved?.mean ?? 0
      const parts: EntityParts = {
        observe(ts, vector) {
          const x = vector[0] ?? 0
          n++
          mean += (x - mean) / n
          const distance = Math.abs(x - mean)
          return { score: n < 3 ? 0 : distance / (distance + 1), change: changeAt(ts) }
        },
        encode(ts, vectors) {
          return { codec: 'test-cbor', bytes: dagCbor.encode({ ts, vectors }) }
        },
        regime(_ts, _vectors, scores) {
          return Math.max(...scores) > 0.9 ? 'wild' : 'calm'
        },
      }
      if (options.resumable) parts.snapshot = () => ({ n, mean })
      return parts
    },
    decode(codec, bytes) {
      if (codec !== 'test-cbor') throw new Error(`unknown codec ${codec}`)
      return dagCbor.decode(bytes) as { ts: number[]; vectors: number[][] }
    },
  }
}

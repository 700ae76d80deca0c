import * as dagCbor from '@ipld/dag-cbor'
import type { EngineParts } from '../src/node.ts'
import type { SegmenterParts } from '../src/segmenter.ts'

/**
 * Stand-ins for the model and the codec, for tests about segmenting and the node's bookkeeping (not about
 * scoring or compression): a score from a running mean, DAG-CBOR as a lossless "codec", and a change of
 * regime wherever `changeAt` says.
 */
export function stubParts(changeAt: (ts: number) => boolean = () => false): EngineParts {
  return {
    forEntity(): SegmenterParts {
      let n = 0
      let mean = 0
      return {
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
    },
    decode(codec, bytes) {
      if (codec !== 'test-cbor') throw new Error(`unknown codec ${codec}`)
      return dagCbor.decode(bytes) as { ts: number[]; vectors: number[][] }
    },
  }
}

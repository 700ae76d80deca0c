import type { ObservationColumns } from '@vsdb/engine'
import { VsdbError } from '@vsdb/log'
import { z } from 'zod'
import { FRAME_MAGIC, FRAME_MAX_DIM, FRAME_MAX_ROWS, type FrameHeader, frameColumns, frameLayout } from '../wire/observation-frame.ts'
import { entityId } from './inputs.ts'

const headerSchema = z.strictObject({
  count: z.number().int().min(1).max(FRAME_MAX_ROWS),
  // The empty name stands for a row without an entity (it takes the batch's).
  entities: z.array(z.union([z.literal(''), entityId])).min(1),
  dims: z.array(z.number().int().min(1).max(FRAME_MAX_DIM)),
  entity: entityId.optional(),
})

/** An observation frame as base64 text; its bytes are then checked as a binary frame's are. */
export const frameBase64Input = z.base64({ message: 'is not base64' })

const refuse = (field: string, message: string): VsdbError => new VsdbError('INVALID_INPUT', `${field}: ${message}`, { field })

/**
 * The columns of an observation frame (see `wire/observation-frame.ts`), views over its bytes where they can be,
 * once its header has passed its schema and every length adds up; a frame that does not is refused whole, naming
 * the field. The rows themselves are then checked by the engine exactly as JSON rows are (`ingestColumns`).
 */
export function decodeObservationFrame(bytes: Uint8Array): { columns: ObservationColumns; entity?: string } {
  if (bytes.length < 12 || String.fromCharCode(...bytes.subarray(0, 8)) !== FRAME_MAGIC) {
    throw refuse('body', `is not an observation frame (one starts with "${FRAME_MAGIC}")`)
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const headerLength = view.getUint32(8, true)
  if (12 + headerLength > bytes.length) throw refuse('header', 'is longer than the frame')
  const header = parseHeader(bytes.subarray(12, 12 + headerLength))
  const { count, entities, dims } = header
  const { indexAt, tsAt, valuesAt } = frameLayout(headerLength, count)
  if (valuesAt > bytes.length) throw refuse('body', `is ${bytes.length} bytes, too short for ${count} rows`)
  let values = 0
  for (let i = 0; i < count; i++) {
    const e = view.getUint32(indexAt + 4 * i, true)
    if (e >= entities.length) throw refuse(`observations.${i}.entity`, `entity index ${e} is not in the header`)
    values += dims[e] as number
  }
  if (valuesAt + 8 * values !== bytes.length) {
    throw refuse('body', `is ${bytes.length} bytes where its header and rows make ${valuesAt + 8 * values}`)
  }
  const { rowEntity, ts, values: columnValues } = frameColumns(bytes, indexAt, tsAt, valuesAt, count, values)
  const columns: ObservationColumns = { entities, dims, rowEntity, ts, values: columnValues }
  return header.entity === undefined ? { columns } : { columns, entity: header.entity }
}

function parseHeader(bytes: Uint8Array): FrameHeader {
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    throw refuse('header', 'is not JSON')
  }
  const parsed = headerSchema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw refuse(['header', ...(issue?.path ?? []).map(String)].join('.'), issue?.message ?? 'invalid')
  }
  if (parsed.data.dims.length !== parsed.data.entities.length) throw refuse('header.dims', 'must give one dimension per entity')
  return parsed.data
}

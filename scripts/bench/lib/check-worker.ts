import { parentPort } from 'node:worker_threads'
import { checkEventBlock } from '@vsdb/log'

parentPort?.on('message', (job: { cids: string[]; blocks: Uint8Array[] }) => {
  let ok = 0
  for (const [i, cid] of job.cids.entries()) if (checkEventBlock(cid, job.blocks[i] as Uint8Array).ok) ok++
  parentPort?.postMessage(ok)
})

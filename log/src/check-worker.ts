import { parentPort } from 'node:worker_threads'
import { checkEventBlock } from './event-check.ts'

interface Job {
  id: number
  cids: string[]
  blocks: Uint8Array[]
}

parentPort?.on('message', (job: Job) => {
  const results = job.cids.map((cid, i) => checkEventBlock(cid, job.blocks[i] as Uint8Array))
  parentPort?.postMessage({ id: job.id, results })
})

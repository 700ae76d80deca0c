import { open, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'

/**
 * `DIR/serve.json` (mode 0600) tells the other commands on a directory that `vsdb serve` holds it, where it
 * listens, and a token for them. Access to the file is access to the node, as access to the key already is.
 */
const serveFileSchema = z.strictObject({ pid: z.number().int().positive(), url: z.string().url(), token: z.string().min(1) })
export type ServeFile = z.infer<typeof serveFileSchema>

const pathOf = (dir: string) => join(dir, 'serve.json')

export async function writeServeFile(dir: string, info: ServeFile): Promise<void> {
  const file = await open(pathOf(dir), 'w', 0o600)
  try {
    await file.writeFile(`${JSON.stringify(info)}\n`)
  } finally {
    await file.close()
  }
}

export async function removeServeFile(dir: string): Promise<void> {
  await rm(pathOf(dir), { force: true })
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The running node on this directory, if a live `vsdb serve` holds it (a file left by a killed one is ignored). */
export async function runningNode(dir: string): Promise<ServeFile | null> {
  let text: string
  try {
    text = await readFile(pathOf(dir), 'utf8')
  } catch {
    return null
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return null
  }
  const parsed = serveFileSchema.safeParse(json)
  if (!parsed.success || !alive(parsed.data.pid) || parsed.data.pid === process.pid) return null
  return parsed.data
}

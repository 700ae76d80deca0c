/** The memory of this process as the kernel counts it. */
import { readFile } from 'node:fs/promises'

/**
 * Peak RSS of this process in MiB: VmHWM where /proc has it, else resourceUsage().maxRSS; and at the end, the
 * RSS split into anonymous memory and file-backed pages (the node binary, and Level's mmapped table files).
 */
export async function processRss(): Promise<{ peakRssMB: number; endRssMB?: { anon: number; file: number } }> {
  try {
    const status = await readFile('/proc/self/status', 'utf8')
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) / 1024
    const peak = kb('VmHWM')
    if (Number.isFinite(peak)) return { peakRssMB: peak, endRssMB: { anon: kb('RssAnon'), file: kb('RssFile') } }
  } catch {}
  return { peakRssMB: process.resourceUsage().maxRSS / 1024 }
}

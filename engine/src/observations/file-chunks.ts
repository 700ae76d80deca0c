import { type FileHandle, open } from 'node:fs/promises'

/**
 * A file's bytes, read in turn into two buffers of `size` kept for the whole read. A buffer per read (as a read
 * stream allocates) left about as much memory outside the JS heap as the file is long until a collection
 * freed it. A chunk stays as it is until the next-but-one `next`; a reader keeping it longer takes a copy.
 */
export class FileChunks {
  readonly #handle: FileHandle
  readonly #buffers: [Buffer, Buffer]
  #turn = 0
  /** Bytes read so far. */
  bytesRead = 0

  private constructor(handle: FileHandle, size: number) {
    this.#handle = handle
    this.#buffers = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)]
  }

  static async open(path: string, size: number): Promise<FileChunks> {
    return new FileChunks(await open(path, 'r'), size)
  }

  /** The next chunk (never empty), or null at the end of the file. */
  async next(): Promise<Buffer | null> {
    const buffer = this.#buffers[this.#turn] as Buffer
    this.#turn ^= 1
    const { bytesRead } = await this.#handle.read(buffer, 0, buffer.length, null)
    if (bytesRead === 0) return null
    this.bytesRead += bytesRead
    return buffer.subarray(0, bytesRead)
  }

  async close(): Promise<void> {
    await this.#handle.close()
  }
}

/** The bytes as a stream of one chunk (what an octetInputParser procedure takes), without the copy a Blob would make. */
export function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes)
      controller.close()
    },
  })
}

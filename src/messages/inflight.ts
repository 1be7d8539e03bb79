// Sends whose stored row is not written yet. A receipt can overtake the write (the delivery receipt
// follows the server ack within milliseconds), so the status tracker waits for the send's write first.
export function createInflight() {
  const pending = new Map<string, Promise<void>>()
  const key = (clientId: string, id: string) => `${clientId}\u0000${id}`
  return {
    /** Marks a send as in flight; call the returned function once its row is written (or not). */
    begin(clientId: string, id: string): () => void {
      let release!: () => void
      const written = new Promise<void>((resolve) => {
        release = resolve
      })
      pending.set(key(clientId, id), written)
      return () => {
        if (pending.get(key(clientId, id)) === written) pending.delete(key(clientId, id))
        release()
      }
    },
    /** How many sends are in flight. */
    size: (): number => pending.size,
    /** Resolves once the send of this message (if any is in flight) has written its row. */
    settled(clientId: string, id: string): Promise<void> {
      return pending.get(key(clientId, id)) ?? Promise.resolve()
    },
  }
}

export type Inflight = ReturnType<typeof createInflight>

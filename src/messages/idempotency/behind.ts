// Kept answers written behind the answer: a keyed send answers once its message is sent and stored,
// and the answer it gave is written to the key afterwards, off the request's path (one statement less
// to wait for per keyed send).
//   - A repeat of the key on this instance waits for that write, so it gets the first answer (a
//     replay), as if the write had been awaited.
//   - On another instance, a repeat in the milliseconds before the write lands finds the claim in
//     flight: 409 IDEMPOTENCY_KEY_IN_USE, as for any request still running; a later one is a replay.
//   - A crash in between leaves the claim in flight: once its lock (IDEMPOTENCY_LOCK_MS) has passed, a
//     retry takes it over and answers from the message store with the same message id, sending nothing.
// drain() waits for the writes still running (the plugin calls it on close, before the pool ends).
import type { IdempotencyStore } from './types.js'

export function withAnswersBehind(store: IdempotencyStore): IdempotencyStore & { drain(): Promise<void> } {
  const writing = new Map<string, Promise<void>>()
  return {
    async claim(scope, clientId, fingerprint, messageId) {
      await writing.get(scope)
      return store.claim(scope, clientId, fingerprint, messageId)
    },
    complete(claim, answer, options) {
      const { scope } = claim
      // A key that cannot be completed now expires its claim, and a retry takes it over (see above).
      const write: Promise<void> = store.complete(claim, answer, options).then(
        () => undefined,
        () => undefined,
      ).finally(() => {
        if (writing.get(scope) === write) writing.delete(scope)
      })
      writing.set(scope, write)
      return Promise.resolve()
    },
    release: (claim) => store.release(claim),
    purge: (now) => store.purge(now),
    async drain() {
      await Promise.all([...writing.values()])
    },
  }
}

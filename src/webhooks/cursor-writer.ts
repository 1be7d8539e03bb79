// Delivered cursors are written in batches: mark() keeps the highest seq per (endpoint, session) in
// memory and one statement every flushMs writes them all, so a fast consumer costs a few statements a
// second, not one per event. A crash loses at most flushMs of progress: those events are sent again
// (at least once), never skipped.
import type { Logger } from 'pino'
import type { Clock } from '../lib/clock.js'
import type { CursorWrite, EndpointKind, WebhookStore } from './types.js'

export function createCursorWriter({ store, clock, flushMs, log }: { store: WebhookStore; clock: Clock; flushMs: number; log: Logger }) {
  let pending = new Map<string, CursorWrite>()
  let timer: unknown = null
  let flushing: Promise<void> | null = null
  let writes = 0

  function put(w: CursorWrite): void {
    const key = `${w.endpoint}\u0000${w.clientId}`
    const prev = pending.get(key)
    if (!prev || prev.seq < w.seq) pending.set(key, w)
  }

  function schedule(): void {
    if (timer === null) timer = clock.setTimeout(() => {
      timer = null
      void flush()
    }, flushMs)
  }

  async function flushOnce(): Promise<void> {
    if (pending.size === 0) return
    const batch = [...pending.values()]
    pending = new Map()
    try {
      writes++
      await store.advance(batch)
    } catch (err) {
      // Kept for the next flush: progress is only lost by a crash, and then re-sent, not skipped.
      for (const w of batch) put(w)
      log.warn({ err, cursors: batch.length }, 'saving webhook delivery cursors failed; retried at the next flush')
      schedule()
    }
  }

  async function flush(): Promise<void> {
    while (flushing) await flushing
    flushing = flushOnce().finally(() => {
      flushing = null
    })
    await flushing
  }

  return {
    mark(endpoint: EndpointKind, clientId: string, seq: number): void {
      put({ endpoint, clientId, seq })
      schedule()
    },
    flush,
    /** Statements written so far (the benchmark reports statements per event). */
    writes: () => writes,
    async stop(): Promise<void> {
      if (timer !== null) clock.clearTimeout(timer)
      timer = null
      await flush()
    },
  }
}

export type CursorWriter = ReturnType<typeof createCursorWriter>

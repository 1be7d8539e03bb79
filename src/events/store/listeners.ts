// The in-process subscribers of an outbox: told after every append that stored something. A listener
// that throws is not allowed to break the append that woke it.
import type { StoredEvent } from '../types.js'

export function createListeners(onError: (err: unknown) => void = () => {}) {
  const listeners = new Set<(events: StoredEvent[]) => void>()
  return {
    subscribe(listener: (events: StoredEvent[]) => void): () => void {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    emit(events: StoredEvent[]): void {
      if (events.length === 0) return
      for (const l of [...listeners]) {
        try {
          l(events)
        } catch (err) {
          onError(err)
        }
      }
    },
  }
}

/** Drops events whose dedupe key came earlier in the same batch (the first one is kept). */
export function uniqueInBatch<T extends { dedupeKey?: string }>(events: T[]): T[] {
  const seen = new Set<string>()
  return events.filter((e) => {
    if (e.dedupeKey === undefined) return true
    if (seen.has(e.dedupeKey)) return false
    seen.add(e.dedupeKey)
    return true
  })
}

export class OutboxError extends Error {
  constructor(message: string, readonly code: string | null = null) {
    super(message)
    this.name = 'OutboxError'
  }
}

// The in-process subscribers of an outbox: told after every append that stored something. A listener
// that throws is not allowed to break the append that woke it.
import type { NewEvent, StoredEvent } from '../types.js'

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

/**
 * Drops events whose dedupe key came earlier in the same batch (the first one is kept). An event with
 * an id given by the caller and no dedupe key is keyed by its id, so it is stored once per id.
 */
export function uniqueInBatch(events: NewEvent[]): NewEvent[] {
  const seen = new Set<string>()
  const keyed = events.map((e) => (e.dedupeKey === undefined && e.id !== undefined ? { ...e, dedupeKey: `id:${e.id}` } : e))
  return keyed.filter((e) => {
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

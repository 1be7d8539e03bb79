// An in-memory EventOutbox (src/events/types.ts) for tests of its consumers: gap-free seq per session
// from 1, dedupe keys, subscribers called after each append that stored something, purge by age.
import { randomBytes } from 'node:crypto'
import type { EventOutbox, NewEvent, StoredEvent } from '../../src/events/types.js'

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'
function eventId(): string {
  const bytes = randomBytes(26)
  return `evt_${[...bytes].map((b) => ALPHABET[b % 32]).join('')}`
}

export function createMemoryOutbox(): EventOutbox & { size(): number } {
  const bySession = new Map<string, { events: StoredEvent[]; storedAt: number[]; keys: Set<string>; last: number }>()
  const listeners = new Set<(events: StoredEvent[]) => void>()
  const of = (clientId: string) => {
    let s = bySession.get(clientId)
    if (!s) bySession.set(clientId, (s = { events: [], storedAt: [], keys: new Set(), last: 0 }))
    return s
  }
  return {
    async append(clientId, events: NewEvent[]) {
      const s = of(clientId)
      const stored: StoredEvent[] = []
      for (const e of events) {
        if (e.dedupeKey !== undefined) {
          if (s.keys.has(e.dedupeKey)) continue
          s.keys.add(e.dedupeKey)
        }
        const event: StoredEvent = { id: eventId(), type: e.type, clientId, seq: ++s.last, timestamp: e.timestamp, data: structuredClone(e.data) }
        s.events.push(event)
        s.storedAt.push(Date.now())
        stored.push(event)
      }
      if (stored.length > 0) for (const l of listeners) l(stored)
      return stored
    },
    async after(clientId, afterSeq, limit) {
      return (bySession.get(clientId)?.events ?? []).filter((e) => e.seq > afterSeq).slice(0, limit)
    },
    async lastSeq(clientId) {
      return bySession.get(clientId)?.last ?? 0
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    async purge(olderThan) {
      let n = 0
      for (const s of bySession.values()) {
        const keep = s.storedAt.map((at) => at >= olderThan.getTime())
        n += keep.filter((k) => !k).length
        s.events = s.events.filter((_, i) => keep[i])
        s.storedAt = s.storedAt.filter((_, i) => keep[i])
      }
      return n
    },
    async close() {
      listeners.clear()
    },
    size: () => [...bySession.values()].reduce((n, s) => n + s.events.length, 0),
  }
}

// The outbox in Postgres (table whatsapp_events, migration 006). One statement per append batch, so it
// works through a transaction-mode pooler: it skips events whose dedupe key is stored, raises the
// session's counter row by the number of the others and inserts them numbered from the old value, all
// atomically. The counter's row lock orders concurrent appends of one session; a concurrent append of
// the same dedupe key makes the later statement fail whole (no number used) and it is run again.
import type { Sql } from '../../db/index.js'
import { newEventId } from '../ids.js'
import type { EventOutbox, EventType, NewEvent, StoredEvent } from '../types.js'
import { createListeners, OutboxError, uniqueInBatch } from './listeners.js'

interface Row { id: string; type: EventType; client_id: string; seq: string | number; ts: Date; data: Record<string, unknown> }

const toEvent = (r: Row): StoredEvent => ({
  id: r.id,
  type: r.type,
  clientId: r.client_id,
  seq: Number(r.seq),
  timestamp: r.ts.toISOString(),
  data: r.data,
})

const UNIQUE_VIOLATION = '23505'
const MAX_ATTEMPTS = 5

/** Errors without Postgres' `detail` (it can quote a dedupe key, and with it a phone number). */
function clean(err: unknown): OutboxError {
  const code = (err as { code?: string }).code ?? null
  return new OutboxError(`the event outbox could not store the events: ${err instanceof Error ? err.message : 'unknown error'}`, code)
}

export function createPostgresOutbox({ sql, onListenerError }: { sql: Sql; onListenerError?: (err: unknown) => void }): EventOutbox {
  const listeners = createListeners(onListenerError)

  async function insert(clientId: string, events: NewEvent[]): Promise<StoredEvent[]> {
    const ids = events.map((e) => e.id ?? newEventId())
    const types = events.map((e) => e.type)
    const ts = events.map((e) => e.timestamp)
    const data = events.map((e) => JSON.stringify(e.data))
    const keys = events.map((e) => e.dedupeKey ?? null)
    const rows = await sql<Row[]>`
      WITH input AS (
        SELECT * FROM unnest(${ids}::text[], ${types}::text[], ${ts}::timestamptz[], ${data}::text[], ${keys}::text[])
          WITH ORDINALITY AS i(id, type, ts, data, dedupe_key, ord)
      ), fresh AS (
        SELECT i.*, row_number() OVER (ORDER BY i.ord) AS n FROM input i
        WHERE i.dedupe_key IS NULL OR NOT EXISTS (
          SELECT 1 FROM whatsapp_events e WHERE e.client_id = ${clientId} AND e.dedupe_key = i.dedupe_key)
      ), counter AS (
        INSERT INTO whatsapp_event_counters AS c (client_id, last_seq)
        VALUES (${clientId}, (SELECT count(*) FROM fresh))
        ON CONFLICT (client_id) DO UPDATE SET last_seq = c.last_seq + EXCLUDED.last_seq
        RETURNING last_seq
      )
      INSERT INTO whatsapp_events (client_id, seq, id, type, ts, data, dedupe_key)
      SELECT ${clientId}, counter.last_seq - (SELECT count(*) FROM fresh) + f.n, f.id, f.type, f.ts, f.data::jsonb, f.dedupe_key
      FROM fresh f, counter
      RETURNING id, type, client_id, seq, ts, data`
    return rows.map(toEvent).sort((a, b) => a.seq - b.seq)
  }

  return {
    async append(clientId, events) {
      const batch = uniqueInBatch(events)
      if (batch.length === 0) return []
      for (let attempt = 1; ; attempt++) {
        try {
          const stored = await insert(clientId, batch)
          listeners.emit(stored)
          return stored
        } catch (err) {
          // Another append stored one of these dedupe keys after this statement's snapshot: run it
          // again, and it skips that event.
          if ((err as { code?: string }).code === UNIQUE_VIOLATION && attempt < MAX_ATTEMPTS) continue
          throw clean(err)
        }
      }
    },
    async after(clientId, afterSeq, limit) {
      const rows = await sql<Row[]>`
        SELECT id, type, client_id, seq, ts, data FROM whatsapp_events
        WHERE client_id = ${clientId} AND seq > ${afterSeq}
        ORDER BY seq LIMIT ${limit}`
      return rows.map(toEvent)
    },
    async lastSeq(clientId) {
      const [row] = await sql<{ last_seq: string }[]>`SELECT last_seq FROM whatsapp_event_counters WHERE client_id = ${clientId}`
      return row ? Number(row.last_seq) : 0
    },
    async lastSeqs(clientIds) {
      // One JSON text parameter (as the lease's batch statements): no per-connection array type lookup.
      const rows = await sql<{ client_id: string; last_seq: string }[]>`
        SELECT client_id, last_seq FROM whatsapp_event_counters
         WHERE client_id IN (SELECT value FROM jsonb_array_elements_text(${JSON.stringify(clientIds)}::text::jsonb))`
      return new Map(rows.map((r) => [r.client_id, Number(r.last_seq)]))
    },
    subscribe: listeners.subscribe,
    async purge(olderThan) {
      const result = await sql`DELETE FROM whatsapp_events WHERE created_at < ${olderThan}`
      return result.count
    },
    // The pool belongs to the db plugin.
    async close() {},
  }
}

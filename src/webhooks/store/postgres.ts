// Webhooks and their delivery state in Postgres (db/migrations/007): shared by every instance, so the
// holder of a session's lease continues from the cursor the previous holder wrote. Secrets are sealed
// with SESSION_ENCRYPTION_KEY when set. A session's webhook goes with the session (foreign key); its
// cursors and dead letters stay, like its event sequence, which continues if the session comes back.
import type { Sql } from '../../db/index.js'
import type { Sealer } from '../../messages/payload.js'
import type { DeadLetter, EndpointKind, SessionWebhook, WebhookStore } from '../types.js'

interface HookRow { client_id: string; url: string; secret: string; events: string[] | null; headers: Record<string, string>; created_at: Date; updated_at: Date }
interface LetterRow { endpoint: EndpointKind; client_id: string; seq: string; event_id: string; type: string; attempts: number; last_error: string; last_status: number | null; state: 'failed' | 'queued'; failed_at: Date }

const clip = (s: string) => s.slice(0, 200)

export function createPostgresWebhookStore({ sql, sealer }: { sql: Sql; sealer: Sealer }): WebhookStore {
  const hook = (r: HookRow): SessionWebhook => ({
    url: r.url, secret: sealer.open(r.secret), events: r.events, headers: r.headers, createdAt: r.created_at, updatedAt: r.updated_at,
  })
  const letter = (r: LetterRow): DeadLetter => ({
    endpoint: r.endpoint, clientId: r.client_id, seq: Number(r.seq), eventId: r.event_id, type: r.type, attempts: r.attempts,
    lastError: r.last_error, lastStatus: r.last_status, state: r.state, failedAt: r.failed_at,
  })
  return {
    async getWebhook(clientId) {
      const [row] = await sql<HookRow[]>`SELECT * FROM whatsapp_webhooks WHERE client_id = ${clientId}`
      return row ? hook(row) : null
    },
    async webhooks(clientIds) {
      if (clientIds.length === 0) return new Map()
      const rows = await sql<HookRow[]>`SELECT * FROM whatsapp_webhooks WHERE client_id = ANY(${clientIds as string[]}::text[])`
      return new Map(rows.map((r) => [r.client_id, hook(r)]))
    },
    async putWebhook(clientId, h, startSeq) {
      await sql.begin(async (tx) => {
        const rows = await tx`
          INSERT INTO whatsapp_webhooks (client_id, url, secret, events, headers)
          SELECT ${clientId}, ${h.url}, ${sealer.seal(h.secret)}, ${h.events as string[] | null}::text[], ${tx.json(h.headers)}
            FROM whatsapp_sessions WHERE client_id = ${clientId}
          ON CONFLICT (client_id) DO UPDATE SET url = EXCLUDED.url, secret = EXCLUDED.secret, events = EXCLUDED.events,
            headers = EXCLUDED.headers, updated_at = clock_timestamp()
          RETURNING client_id`
        if (rows.length === 0) throw new Error(`session "${clientId}" is not stored`)
        await tx`
          INSERT INTO whatsapp_webhook_cursors (endpoint, client_id, delivered_seq) VALUES ('session', ${clientId}, ${startSeq})
          ON CONFLICT (client_id, endpoint) DO UPDATE SET delivered_seq = EXCLUDED.delivered_seq, failing_seq = NULL,
            failing_since = NULL, attempts = 0, last_error = NULL, last_status = NULL, updated_at = now()`
      })
    },
    async deleteWebhook(clientId) {
      const rows = await sql`DELETE FROM whatsapp_webhooks WHERE client_id = ${clientId} RETURNING client_id`
      await sql`DELETE FROM whatsapp_webhook_cursors WHERE client_id = ${clientId} AND endpoint = 'session'`
      return rows.length > 0
    },
    async cursor(endpoint, clientId) {
      const [row] = await sql<{ delivered_seq: string; failing_seq: string | null; failing_since: Date | null; attempts: number; last_error: string | null; last_status: number | null }[]>`
        SELECT delivered_seq, failing_seq, failing_since, attempts, last_error, last_status
          FROM whatsapp_webhook_cursors WHERE client_id = ${clientId} AND endpoint = ${endpoint}`
      if (!row) return null
      const failing = row.failing_seq !== null && row.failing_since !== null
        ? { seq: Number(row.failing_seq), since: row.failing_since, attempts: row.attempts, error: row.last_error ?? '', status: row.last_status }
        : null
      return { deliveredSeq: Number(row.delivered_seq), failing }
    },
    async advance(writes) {
      if (writes.length === 0) return
      await sql`
        INSERT INTO whatsapp_webhook_cursors (endpoint, client_id, delivered_seq)
        SELECT w.endpoint, w.client_id, w.seq
          FROM unnest(${writes.map((w) => w.endpoint)}::text[], ${writes.map((w) => w.clientId)}::text[], ${writes.map((w) => w.seq)}::bigint[]) AS w (endpoint, client_id, seq)
        ON CONFLICT (client_id, endpoint) DO UPDATE SET
          delivered_seq = GREATEST(whatsapp_webhook_cursors.delivered_seq, EXCLUDED.delivered_seq),
          failing_seq = CASE WHEN whatsapp_webhook_cursors.failing_seq <= EXCLUDED.delivered_seq THEN NULL ELSE whatsapp_webhook_cursors.failing_seq END,
          updated_at = now()`
    },
    async recordFailure(endpoint, clientId, f) {
      await sql`
        INSERT INTO whatsapp_webhook_cursors (endpoint, client_id, delivered_seq, failing_seq, failing_since, attempts, last_error, last_status)
        VALUES (${endpoint}, ${clientId}, ${f.seq - 1}, ${f.seq}, ${f.since}, ${f.attempts}, ${clip(f.error)}, ${f.status})
        ON CONFLICT (client_id, endpoint) DO UPDATE SET failing_seq = EXCLUDED.failing_seq, failing_since = EXCLUDED.failing_since,
          attempts = EXCLUDED.attempts, last_error = EXCLUDED.last_error, last_status = EXCLUDED.last_status, updated_at = now()`
    },
    async deadLetter(l) {
      await sql.begin(async (tx) => {
        await tx`
          INSERT INTO whatsapp_webhook_dead_letters (endpoint, client_id, seq, event_id, type, attempts, last_error, last_status, failed_at)
          VALUES (${l.endpoint}, ${l.clientId}, ${l.seq}, ${l.eventId}, ${l.type}, ${l.attempts}, ${clip(l.lastError)}, ${l.lastStatus}, ${l.failedAt})
          ON CONFLICT (client_id, endpoint, seq) DO UPDATE SET attempts = EXCLUDED.attempts, last_error = EXCLUDED.last_error,
            last_status = EXCLUDED.last_status, state = 'failed', failed_at = EXCLUDED.failed_at`
        await tx`
          INSERT INTO whatsapp_webhook_cursors (endpoint, client_id, delivered_seq)
          VALUES (${l.endpoint}, ${l.clientId}, ${l.seq})
          ON CONFLICT (client_id, endpoint) DO UPDATE SET
            delivered_seq = GREATEST(whatsapp_webhook_cursors.delivered_seq, EXCLUDED.delivered_seq),
            failing_seq = NULL, failing_since = NULL, attempts = 0, last_error = NULL, last_status = NULL, updated_at = now()`
      })
    },
    async deadLetters(clientId, state) {
      const rows = await sql<LetterRow[]>`
        SELECT * FROM whatsapp_webhook_dead_letters
         WHERE client_id = ${clientId} ${state ? sql`AND state = ${state}` : sql``}
         ORDER BY seq, endpoint LIMIT 1000`
      return rows.map(letter)
    },
    async queuedFor(clientIds) {
      if (clientIds.length === 0) return []
      const rows = await sql<{ endpoint: EndpointKind; client_id: string }[]>`
        SELECT DISTINCT endpoint, client_id FROM whatsapp_webhook_dead_letters
         WHERE client_id = ANY(${clientIds as string[]}::text[]) AND state = 'queued'`
      return rows.map((r) => ({ endpoint: r.endpoint, clientId: r.client_id }))
    },
    async requeue(clientId, eventIds) {
      const rows = await sql<LetterRow[]>`
        UPDATE whatsapp_webhook_dead_letters SET state = 'queued'
         WHERE client_id = ${clientId} AND state = 'failed' ${eventIds ? sql`AND event_id = ANY(${eventIds as string[]}::text[])` : sql``}
        RETURNING *`
      return rows.map(letter).sort((a, b) => a.seq - b.seq)
    },
    async settleRequeued(l, outcome) {
      if (outcome.delivered) {
        await sql`DELETE FROM whatsapp_webhook_dead_letters WHERE client_id = ${l.clientId} AND endpoint = ${l.endpoint} AND seq = ${l.seq}`
        return
      }
      await sql`
        UPDATE whatsapp_webhook_dead_letters SET state = 'failed', attempts = ${outcome.attempts}, last_error = ${clip(outcome.error)},
          last_status = ${outcome.status}, failed_at = ${outcome.at}
         WHERE client_id = ${l.clientId} AND endpoint = ${l.endpoint} AND seq = ${l.seq}`
    },
    async purge(before) {
      const rows = await sql`DELETE FROM whatsapp_webhook_dead_letters WHERE failed_at < ${before} RETURNING seq`
      return rows.length
    },
    async close() {},
  }
}

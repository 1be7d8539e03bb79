// The outbound queue in Postgres (whatsapp_message_queue): any instance may enqueue (a standby during a
// hand-over), the instance whose session is open sends. Requests are sealed (they name recipients).
import type { Sql } from '../../db/index.js'
import type { SendRequest } from '../../schemas/send.js'
import type { Sealer } from '../payload.js'
import { QUEUE_CLAIM_MS, type QueueStore } from './types.js'

export function createPostgresQueueStore({ sql, sealer }: { sql: Sql; sealer: Sealer }): QueueStore {
  const claimFor = `${QUEUE_CLAIM_MS} milliseconds`
  return {
    async enqueue(clientId, messageId, request) {
      await sql`
        INSERT INTO whatsapp_message_queue (client_id, message_id, request)
        VALUES (${clientId}, ${messageId}, ${sealer.seal(JSON.stringify(request))})
        ON CONFLICT (client_id, message_id) DO NOTHING`
    },
    async waiting(clientId) {
      const [{ n }] = await sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM whatsapp_message_queue WHERE client_id = ${clientId} AND state <> 'failed'`
      return n
    },
    async claim(clientId) {
      const rows = await sql<{ seq: string; message_id: string; request: string }[]>`
        UPDATE whatsapp_message_queue SET state = 'sending', claimed_until = now() + ${claimFor}::interval
         WHERE seq = (
           SELECT seq FROM whatsapp_message_queue
            WHERE client_id = ${clientId} AND state <> 'failed'
            ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
           AND (state = 'queued' OR claimed_until < now())
        RETURNING seq, message_id, request`
      const row = rows[0]
      if (!row) return null
      return { seq: Number(row.seq), messageId: row.message_id, request: JSON.parse(sealer.open(row.request)) as SendRequest }
    },
    async done(clientId, seq) {
      await sql`DELETE FROM whatsapp_message_queue WHERE client_id = ${clientId} AND seq = ${seq}`
    },
    async fail(clientId, seq, reason) {
      await sql`
        UPDATE whatsapp_message_queue SET state = 'failed', claimed_until = NULL, error = ${reason.slice(0, 500)}
         WHERE client_id = ${clientId} AND seq = ${seq}`
    },
    async unclaim(clientId, seq) {
      await sql`
        UPDATE whatsapp_message_queue SET state = 'queued', claimed_until = NULL
         WHERE client_id = ${clientId} AND seq = ${seq} AND state = 'sending'`
    },
    async get(clientId, messageId) {
      const [row] = await sql<{ state: 'queued' | 'sending' | 'failed'; error: string | null; created_at: Date }[]>`
        SELECT state, error, created_at FROM whatsapp_message_queue WHERE client_id = ${clientId} AND message_id = ${messageId}`
      return row ? { state: row.state, error: row.error, createdAt: row.created_at } : null
    },
    async withWork(clientIds) {
      if (clientIds.length === 0) return []
      const rows = await sql<{ client_id: string }[]>`
        SELECT DISTINCT client_id FROM whatsapp_message_queue
         WHERE client_id = ANY(${clientIds as string[]}::text[]) AND (state = 'queued' OR (state = 'sending' AND claimed_until < now()))`
      return rows.map((r) => r.client_id)
    },
    async purge(before) {
      const result = await sql`DELETE FROM whatsapp_message_queue WHERE state = 'failed' AND created_at < ${before}`
      return result.count
    },
  }
}

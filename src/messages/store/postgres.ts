// The message store in Postgres (whatsapp_messages): one row per message, its content sealed in
// `payload`, its status in clear columns (a status is no secret and is read without decrypting).
// New rows go out in the send path's shared statement (../postgres-writes.ts): saves made while one
// is in flight are written together, with the idempotency claims waiting meanwhile, so concurrent
// sends and arrivals cost one statement and one WAL flush, not one each.
import type { WAMessage } from '@whiskeysockets/baileys'
import type { Sql } from '../../db/index.js'
import { decodeMessage, encodeMessage, type Sealer } from '../payload.js'
import { createSendWrites, type SendWrites } from '../postgres-writes.js'
import { nextStatus, type MessageStore, type StatusCode, type StatusUpdate, type StoredMessage } from './types.js'

interface Row {
  client_id: string
  message_id: string
  from_me: boolean
  payload: string
  status: number
  status_reason: string | null
  sent_at: Date | null
  delivered_at: Date | null
  read_at: Date | null
  played_at: Date | null
  failed_at: Date | null
  created_at: Date
}

const REASON_MAX = 500

export function createPostgresMessageStore({ sql, sealer, writes = createSendWrites({ sql }) }: { sql: Sql; sealer: Sealer; writes?: SendWrites }): MessageStore {
  const toStored = (row: Row): StoredMessage => ({
    clientId: row.client_id,
    id: row.message_id,
    fromMe: row.from_me,
    message: decodeMessage(sealer.open(row.payload)),
    status: row.status,
    statusReason: row.status_reason,
    sentAt: row.sent_at,
    deliveredAt: row.delivered_at,
    readAt: row.read_at,
    playedAt: row.played_at,
    failedAt: row.failed_at,
    createdAt: row.created_at,
  })

  async function update(clientId: string, id: string, s: StatusCode, reason: string | null, at: Date): Promise<void> {
    // The same rules as nextStatus()/nextTimes(), in one statement: forward only, failed sticks.
    await sql`
      UPDATE whatsapp_messages SET
        status = CASE WHEN status = 0 THEN 0 WHEN ${s}::smallint = 0 THEN (CASE WHEN status < 3 THEN 0 ELSE status END) ELSE GREATEST(status, ${s}::smallint) END,
        status_reason = CASE WHEN status <> 0 AND ${s}::smallint = 0 AND status < 3 THEN ${reason} ELSE status_reason END,
        failed_at = CASE WHEN status <> 0 AND ${s}::smallint = 0 AND status < 3 THEN COALESCE(failed_at, ${at}) ELSE failed_at END,
        sent_at = CASE WHEN status <> 0 AND ${s}::smallint >= 2 THEN COALESCE(sent_at, ${at}) ELSE sent_at END,
        delivered_at = CASE WHEN status <> 0 AND ${s}::smallint >= 3 THEN COALESCE(delivered_at, ${at}) ELSE delivered_at END,
        read_at = CASE WHEN status <> 0 AND ${s}::smallint >= 4 THEN COALESCE(read_at, ${at}) ELSE read_at END,
        played_at = CASE WHEN status <> 0 AND ${s}::smallint >= 5 THEN COALESCE(played_at, ${at}) ELSE played_at END
      WHERE client_id = ${clientId} AND message_id = ${id}`
  }

  return {
    mode: 'postgres',
    async save(clientId: string, message: WAMessage, { status, reason = null, at }) {
      const id = message.key.id
      if (!id) return
      const r = reason?.slice(0, REASON_MAX) ?? null
      const row = { clientId, id, fromMe: Boolean(message.key.fromMe), payload: sealer.seal(encodeMessage(message)), status, reason: r, at: at.toISOString() }
      // Stored before (or by another save of the same statement): the status moves forward instead.
      if (!(await writes.insertMessage(row))) await update(clientId, id, status, r, at)
    },
    async get(clientId, id) {
      const [row] = await sql<Row[]>`
        SELECT * FROM whatsapp_messages WHERE client_id = ${clientId} AND message_id = ${id}`
      return row ? toStored(row) : null
    },
    async updateStatus(clientId, updates) {
      if (updates.length === 1) {
        const [u] = updates
        return update(clientId, u.id, u.status, u.reason?.slice(0, REASON_MAX) ?? null, u.at)
      }
      // Several messages in one statement (a burst of receipts); one row per message id.
      const merged = mergeUpdates(updates)
      const ids = merged.map((u) => u.id)
      const statuses = merged.map((u) => u.status)
      const reasons = merged.map((u) => u.reason?.slice(0, REASON_MAX) ?? null)
      const ats = merged.map((u) => u.at.toISOString())
      await sql`
        UPDATE whatsapp_messages m SET
          status = CASE WHEN m.status = 0 THEN 0 WHEN u.s = 0 THEN (CASE WHEN m.status < 3 THEN 0 ELSE m.status END) ELSE GREATEST(m.status, u.s) END,
          status_reason = CASE WHEN m.status <> 0 AND u.s = 0 AND m.status < 3 THEN u.reason ELSE m.status_reason END,
          failed_at = CASE WHEN m.status <> 0 AND u.s = 0 AND m.status < 3 THEN COALESCE(m.failed_at, u.at) ELSE m.failed_at END,
          sent_at = CASE WHEN m.status <> 0 AND u.s >= 2 THEN COALESCE(m.sent_at, u.at) ELSE m.sent_at END,
          delivered_at = CASE WHEN m.status <> 0 AND u.s >= 3 THEN COALESCE(m.delivered_at, u.at) ELSE m.delivered_at END,
          read_at = CASE WHEN m.status <> 0 AND u.s >= 4 THEN COALESCE(m.read_at, u.at) ELSE m.read_at END,
          played_at = CASE WHEN m.status <> 0 AND u.s >= 5 THEN COALESCE(m.played_at, u.at) ELSE m.played_at END
        FROM unnest(${ids}::text[], ${statuses}::smallint[], ${reasons}::text[], ${ats}::timestamptz[]) AS u(id, s, reason, at)
        WHERE m.client_id = ${clientId} AND m.message_id = u.id`
    },
    async purge(before) {
      const result = await sql`DELETE FROM whatsapp_messages WHERE created_at < ${before}`
      return result.count
    },
  }
}

/** One update per message: the status the sequence leads to, at its earliest time. */
function mergeUpdates(updates: StatusUpdate[]): StatusUpdate[] {
  const byId = new Map<string, StatusUpdate>()
  for (const u of updates) {
    const seen = byId.get(u.id)
    if (!seen) byId.set(u.id, u)
    else byId.set(u.id, { id: u.id, status: nextStatus(seen.status, u.status), reason: seen.reason ?? u.reason, at: seen.at < u.at ? seen.at : u.at })
  }
  return [...byId.values()]
}

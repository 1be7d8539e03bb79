// Every statement the Postgres backend runs, next to the shape of its rows. client_id is in every WHERE.
import type { TransactionSql } from 'postgres'
import type { Sql as PoolSql } from '../../db/connection.js'

/** A pool or a transaction: statements run on either. */
type Sql = PoolSql | TransactionSql<{}>

export interface SessionRow {
  client_id: string
  creds: string
  status: 'active' | 'inactive' | 'logged_out'
  jid: string | null
  version_epoch: string
  version_seq: string
  key_check: string | null
  created_at: Date
  updated_at: Date
}

export function selectSession(sql: Sql, clientId: string) {
  return sql<SessionRow[]>`
    SELECT client_id, creds, status, jid, version_epoch, version_seq, key_check, created_at, updated_at
      FROM whatsapp_sessions WHERE client_id = ${clientId}`
}

export function selectKeys(sql: Sql, clientId: string) {
  return sql<{ type: string; key_id: string; value: string }[]>`
    SELECT type, key_id, value FROM whatsapp_session_keys WHERE client_id = ${clientId}`
}

export interface EncodedWrite {
  clientId: string
  /** null: keep the stored creds (a new row must bring them). */
  creds: string | null
  status: string | null
  jidGiven: boolean
  jid: string | null
  epoch: number
  seq: number
  keyCheck: string | null
  upserts: { types: string[]; ids: string[]; values: string[] }
  deletes: { types: string[]; ids: string[] }
  fencingToken: number | null
}

/**
 * One write batch in ONE statement (atomic on its own, one round trip): the lease guard, the session
 * row (insert or update, only to a newer version), the key upserts and the key deletes. When the guard
 * or the version check fails, the session CTE yields no row and nothing else is written.
 */
export function applyStatement(sql: Sql, w: EncodedWrite) {
  return sql<{ lease_ok: boolean; applied: number; upserted: number; deleted: number }[]>`
    WITH ok AS (
      SELECT (${w.fencingToken}::bigint IS NULL OR EXISTS (
        SELECT 1 FROM whatsapp_session_leases
         WHERE client_id = ${w.clientId} AND fencing_token = ${w.fencingToken}::bigint)) AS lease_ok
    ),
    sess AS (
      INSERT INTO whatsapp_sessions AS s (client_id, creds, status, jid, version_epoch, version_seq, key_check)
      SELECT ${w.clientId},
             -- NOT NULL is checked before ON CONFLICT: an update without creds carries the stored ones.
             coalesce(${w.creds}::text, (SELECT creds FROM whatsapp_sessions WHERE client_id = ${w.clientId})),
             coalesce(${w.status}::text, 'inactive'), ${w.jid}::text,
             ${w.epoch}::bigint, ${w.seq}::bigint, ${w.keyCheck}::text
        FROM ok WHERE ok.lease_ok
      ON CONFLICT (client_id) DO UPDATE SET
        creds = coalesce(${w.creds}::text, s.creds),
        status = coalesce(${w.status}::text, s.status),
        jid = CASE WHEN ${w.jidGiven}::boolean THEN ${w.jid}::text ELSE s.jid END,
        version_epoch = EXCLUDED.version_epoch,
        version_seq = EXCLUDED.version_seq,
        updated_at = now()
      WHERE s.client_id = ${w.clientId}
        AND (s.version_epoch, s.version_seq) < (EXCLUDED.version_epoch, EXCLUDED.version_seq)
      RETURNING s.client_id
    ),
    up AS (
      INSERT INTO whatsapp_session_keys (client_id, type, key_id, value)
      SELECT sess.client_id, u.type, u.key_id, u.value
        FROM sess, unnest(${w.upserts.types}::text[], ${w.upserts.ids}::text[], ${w.upserts.values}::text[]) AS u(type, key_id, value)
      ON CONFLICT (client_id, type, key_id) DO UPDATE SET value = EXCLUDED.value
      RETURNING 1
    ),
    del AS (
      DELETE FROM whatsapp_session_keys k
       USING sess, unnest(${w.deletes.types}::text[], ${w.deletes.ids}::text[]) AS d(type, key_id)
       WHERE k.client_id = ${w.clientId} AND k.client_id = sess.client_id AND k.type = d.type AND k.key_id = d.key_id
      RETURNING 1
    )
    SELECT (SELECT lease_ok FROM ok) AS lease_ok,
           (SELECT count(*) FROM sess)::int AS applied,
           (SELECT count(*) FROM up)::int AS upserted,
           (SELECT count(*) FROM del)::int AS deleted`
}

export function leaseHeld(sql: Sql, clientId: string, fencingToken: number) {
  return sql<{ held: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM whatsapp_session_leases
                    WHERE client_id = ${clientId} AND fencing_token = ${fencingToken}::bigint) AS held`
}

export function lockSessionVersion(sql: Sql, clientId: string) {
  return sql<{ version_epoch: string; version_seq: string }[]>`
    SELECT version_epoch, version_seq FROM whatsapp_sessions WHERE client_id = ${clientId} FOR UPDATE`
}

export function upsertSessionRow(sql: Sql, w: Omit<EncodedWrite, 'upserts' | 'deletes' | 'fencingToken' | 'jidGiven'> & { createdAt: string }) {
  return sql`
    INSERT INTO whatsapp_sessions AS s (client_id, creds, status, jid, version_epoch, version_seq, key_check, created_at)
    VALUES (${w.clientId}, ${w.creds}, ${w.status}, ${w.jid}, ${w.epoch}::bigint, ${w.seq}::bigint, ${w.keyCheck}, ${w.createdAt}::timestamptz)
    ON CONFLICT (client_id) DO UPDATE SET
      creds = EXCLUDED.creds, status = EXCLUDED.status, jid = EXCLUDED.jid, key_check = EXCLUDED.key_check,
      version_epoch = EXCLUDED.version_epoch, version_seq = EXCLUDED.version_seq, updated_at = now()
    WHERE s.client_id = ${w.clientId}`
}

export function deleteKeys(sql: Sql, clientId: string) {
  return sql`DELETE FROM whatsapp_session_keys WHERE client_id = ${clientId}`
}

/** Inserts every key row of the session (after deleteKeys, in the same transaction). */
export function insertKeys(sql: Sql, clientId: string, rows: { types: string[]; ids: string[]; values: string[] }) {
  return sql`
    INSERT INTO whatsapp_session_keys (client_id, type, key_id, value)
    SELECT ${clientId}, u.type, u.key_id, u.value
      FROM unnest(${rows.types}::text[], ${rows.ids}::text[], ${rows.values}::text[]) AS u(type, key_id, value)`
}

export function distinctKeyChecks(sql: Sql) {
  return sql<{ key_check: string | null }[]>`SELECT DISTINCT key_check FROM whatsapp_sessions`
}

export function deleteSession(sql: Sql, clientId: string) {
  return sql`DELETE FROM whatsapp_sessions WHERE client_id = ${clientId} RETURNING client_id`
}

export function listSessions(sql: Sql) {
  return sql<Pick<SessionRow, 'client_id' | 'status' | 'jid' | 'created_at' | 'updated_at'>[]>`
    SELECT client_id, status, jid, created_at, updated_at FROM whatsapp_sessions ORDER BY client_id`
}

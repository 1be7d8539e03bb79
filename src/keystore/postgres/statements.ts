// Every statement the Postgres backend runs, next to the shape of its rows. client_id is in every WHERE.
import type { TransactionSql } from 'postgres'
import type { Sql as PoolSql } from '../../db/connection.js'

/** A pool or a transaction: statements run on either. */
type Sql = PoolSql | TransactionSql<{}>
type Status = 'active' | 'inactive' | 'logged_out'

export interface SessionRow {
  status: Status | null
  jid: string | null
  version_epoch: string | null
  version_seq: string | null
  key_check: string | null
  key_ids: 'clear' | 'hmac-sha256/v1' | null
  incarnation: string | null
  created_at: Date | null
  updated_at: Date | null
  creds: string | null
  /** The version the session had when it was last deleted, if ever. */
  tomb_epoch: string | null
  tomb_seq: string | null
}

/** One row always: the session's columns (null when there is none) and its tombstone's. */
export function selectSession(sql: Sql, clientId: string) {
  return sql<SessionRow[]>`
    SELECT s.status, s.jid, s.version_epoch, s.version_seq, s.key_check, s.key_ids, s.incarnation, s.created_at, s.updated_at,
           c.creds, t.version_epoch AS tomb_epoch, t.version_seq AS tomb_seq
      FROM (SELECT ${clientId}::text AS client_id) AS x
      LEFT JOIN whatsapp_sessions s ON s.client_id = x.client_id
      LEFT JOIN whatsapp_session_creds c ON c.client_id = x.client_id
      LEFT JOIN whatsapp_session_tombstones t ON t.client_id = x.client_id`
}

export function selectKeys(sql: Sql, clientId: string) {
  return sql<{ type: string; key_id: string; value: string }[]>`
    SELECT type, key_id, value FROM whatsapp_session_keys WHERE client_id = ${clientId}`
}

export interface Rows {
  types: string[]
  ids: string[]
  values: string[]
}

export interface Write {
  clientId: string
  epoch: number
  seq: number
  fencingToken: number | null
  /** Absent: keep what is stored. */
  creds?: string
  status?: Status
  jid?: string | null
  upserts: Rows
  deletes: Omit<Rows, 'values'>
}

/**
 * The two write statements are assembled as text with numbered parameters rather than from nested
 * sql`` fragments: postgres.js builds a fragment-composed query anew on every call, which cost more
 * than the rest of the write path. Values only ever travel as parameters; `param` returns `$n`.
 */
function writeText(w: Write) {
  const params: unknown[] = []
  const param = (value: unknown) => `$${params.push(value)}`
  const id = param(w.clientId)
  const lease = w.fencingToken === null ? '' : `AND EXISTS (SELECT 1 FROM whatsapp_session_leases l WHERE l.client_id = ${id} AND l.fencing_token = ${param(w.fencingToken)}::bigint)`
  const keys = [
    w.upserts.types.length === 0
      ? ''
      : `,
    up AS (
      INSERT INTO whatsapp_session_keys (client_id, type, key_id, value)
      SELECT s.client_id, u.type, u.key_id, u.value
        FROM s, unnest(${param(w.upserts.types)}::text[], ${param(w.upserts.ids)}::text[], ${param(w.upserts.values)}::text[]) AS u(type, key_id, value)
      ON CONFLICT (client_id, type, key_id) DO UPDATE SET value = EXCLUDED.value)`,
    w.deletes.types.length === 0
      ? ''
      : `,
    del AS (
      DELETE FROM whatsapp_session_keys k
       USING s, unnest(${param(w.deletes.types)}::text[], ${param(w.deletes.ids)}::text[]) AS d(type, key_id)
       WHERE k.client_id = s.client_id AND k.type = d.type AND k.key_id = d.key_id)`,
  ].join('')
  return { params, param, id, lease, keys }
}

/**
 * One write to a session the database already has, in ONE statement (atomic, one round trip): the row
 * moves to the new version only if it is newer and the lease (when given) still carries the token;
 * otherwise `applied` is 0 and nothing else is written. The row is narrow (creds live in their own
 * table), so the per-write update stays cheap.
 */
export function updateStatement(sql: Sql, w: Write) {
  const { params, param, id, lease, keys } = writeText(w)
  const [epoch, seq] = [param(w.epoch), param(w.seq)]
  const status = w.status === undefined ? '' : `, status = ${param(w.status)}::text`
  const jid = w.jid === undefined ? '' : `, jid = ${param(w.jid)}::text`
  const creds = w.creds === undefined ? '' : `,
    cr AS (UPDATE whatsapp_session_creds c SET creds = ${param(w.creds)}::text FROM s WHERE c.client_id = s.client_id)`
  return sql.unsafe<{ applied: number }[]>(`
    WITH s AS (
      UPDATE whatsapp_sessions SET version_epoch = ${epoch}::bigint, version_seq = ${seq}::bigint, updated_at = now()${status}${jid}
       WHERE client_id = ${id} AND (version_epoch, version_seq) < (${epoch}::bigint, ${seq}::bigint) ${lease}
      RETURNING client_id
    )${creds}${keys}
    SELECT count(*)::int AS applied FROM s`, params as never[], { prepare: true })
}

/**
 * The first write of a session (it must carry creds), in ONE statement: creates the row (or moves an
 * existing one to this newer version) unless the lease guard fails or a tombstone says the session was
 * deleted at this version or later.
 */
export function createStatement(sql: Sql, w: Write & { creds: string; keyCheck: string | null; keyIds: string }) {
  const { params, param, id, lease, keys } = writeText(w)
  const [epoch, seq, status] = [param(w.epoch), param(w.seq), param(w.status ?? null)]
  return sql.unsafe<{ applied: number; incarnation: string | null }[]>(`
    WITH ok AS (
      SELECT true AS ok
       WHERE NOT EXISTS (SELECT 1 FROM whatsapp_session_tombstones t
                          WHERE t.client_id = ${id} AND (t.version_epoch, t.version_seq) >= (${epoch}::bigint, ${seq}::bigint))
         ${lease}
    ),
    s AS (
      INSERT INTO whatsapp_sessions AS s (client_id, status, jid, version_epoch, version_seq, key_check, key_ids)
      SELECT ${id}, coalesce(${status}::text, 'inactive'), ${param(w.jid ?? null)}::text,
             ${epoch}::bigint, ${seq}::bigint, ${param(w.keyCheck)}::text, ${param(w.keyIds)}::text
        FROM ok
      ON CONFLICT (client_id) DO UPDATE SET
        status = coalesce(${status}::text, s.status),
        jid = CASE WHEN ${param(w.jid !== undefined)}::boolean THEN EXCLUDED.jid ELSE s.jid END,
        version_epoch = EXCLUDED.version_epoch, version_seq = EXCLUDED.version_seq, updated_at = now()
      WHERE s.client_id = ${id} AND (s.version_epoch, s.version_seq) < (EXCLUDED.version_epoch, EXCLUDED.version_seq)
      RETURNING client_id, incarnation
    ),
    cr AS (
      INSERT INTO whatsapp_session_creds (client_id, creds) SELECT client_id, ${param(w.creds)}::text FROM s
      ON CONFLICT (client_id) DO UPDATE SET creds = EXCLUDED.creds)${keys}
    SELECT count(*)::int AS applied, max(incarnation) AS incarnation FROM s`, params as never[], { prepare: true })
}

/** Why a write applied nothing (read after the fact: only the error it is reported as depends on it). */
export function writeRefusal(sql: Sql, clientId: string, fencingToken: number | null) {
  return sql<{ lease_ok: boolean; present: boolean }[]>`
    SELECT (${fencingToken}::bigint IS NULL OR EXISTS (
              SELECT 1 FROM whatsapp_session_leases WHERE client_id = ${clientId} AND fencing_token = ${fencingToken}::bigint)) AS lease_ok,
           EXISTS (SELECT 1 FROM whatsapp_sessions WHERE client_id = ${clientId}) AS present`
}

export function leaseHeld(sql: Sql, clientId: string, fencingToken: number) {
  return sql<{ held: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM whatsapp_session_leases
                    WHERE client_id = ${clientId} AND fencing_token = ${fencingToken}::bigint) AS held`
}

/** The stored version, locked for the transaction (a replace). */
export function lockVersion(sql: Sql, clientId: string) {
  return sql<{ epoch: string; seq: string }[]>`
    SELECT version_epoch AS epoch, version_seq AS seq FROM whatsapp_sessions WHERE client_id = ${clientId} FOR UPDATE`
}

export function selectTombstone(sql: Sql, clientId: string) {
  return sql<{ epoch: string; seq: string }[]>`
    SELECT version_epoch AS epoch, version_seq AS seq FROM whatsapp_session_tombstones WHERE client_id = ${clientId}`
}

export interface SessionColumns {
  clientId: string
  status: Status
  jid: string | null
  epoch: number
  seq: number
  keyCheck: string | null
  keyIds: string
  createdAt: string
  creds: string
}

/** The session row and its creds; returns the row's incarnation (new when the row was created). */
export function upsertSession(sql: Sql, r: SessionColumns) {
  return sql<{ incarnation: string }[]>`
    WITH s AS (
      INSERT INTO whatsapp_sessions AS s (client_id, status, jid, version_epoch, version_seq, key_check, key_ids, created_at)
      VALUES (${r.clientId}, ${r.status}, ${r.jid}, ${r.epoch}::bigint, ${r.seq}::bigint, ${r.keyCheck}, ${r.keyIds}, ${r.createdAt}::timestamptz)
      ON CONFLICT (client_id) DO UPDATE SET
        status = EXCLUDED.status, jid = EXCLUDED.jid, key_check = EXCLUDED.key_check, key_ids = EXCLUDED.key_ids,
        version_epoch = EXCLUDED.version_epoch, version_seq = EXCLUDED.version_seq, updated_at = now()
      WHERE s.client_id = ${r.clientId}
      RETURNING client_id, incarnation
    ),
    cr AS (
      INSERT INTO whatsapp_session_creds (client_id, creds) SELECT client_id, ${r.creds}::text FROM s
      ON CONFLICT (client_id) DO UPDATE SET creds = EXCLUDED.creds)
    SELECT incarnation FROM s`
}

export function deleteKeys(sql: Sql, clientId: string) {
  return sql`DELETE FROM whatsapp_session_keys WHERE client_id = ${clientId}`
}

/** Inserts every key row of the session (after deleteKeys, in the same transaction). */
export function insertKeys(sql: Sql, clientId: string, rows: Rows) {
  return sql`
    INSERT INTO whatsapp_session_keys (client_id, type, key_id, value)
    SELECT ${clientId}, u.type, u.key_id, u.value
      FROM unnest(${rows.types}::text[], ${rows.ids}::text[], ${rows.values}::text[]) AS u(type, key_id, value)`
}

/** Deletes the session (its keys and creds cascade) and leaves a tombstone at the version it had reached. */
export function deleteSession(sql: Sql, clientId: string) {
  return sql<{ deleted: number }[]>`
    WITH gone AS (
      DELETE FROM whatsapp_sessions WHERE client_id = ${clientId} RETURNING client_id, version_epoch, version_seq
    ),
    tomb AS (
      INSERT INTO whatsapp_session_tombstones AS t (client_id, version_epoch, version_seq)
      SELECT client_id, version_epoch, version_seq FROM gone
      ON CONFLICT (client_id) DO UPDATE SET
        version_epoch = GREATEST(t.version_epoch, EXCLUDED.version_epoch),
        version_seq = CASE WHEN (t.version_epoch, t.version_seq) > (EXCLUDED.version_epoch, EXCLUDED.version_seq)
                           THEN t.version_seq ELSE EXCLUDED.version_seq END,
        deleted_at = now()
      WHERE t.client_id = ${clientId}
    )
    SELECT count(*)::int AS deleted FROM gone`
}

export function listSessions(sql: Sql) {
  return sql<{ client_id: string; status: Status; jid: string | null; created_at: Date; updated_at: Date }[]>`
    SELECT client_id, status, jid, created_at, updated_at FROM whatsapp_sessions ORDER BY client_id`
}

export function selectTombstones(sql: Sql, clientIds: string[]) {
  return sql<{ client_id: string; version_epoch: string; version_seq: string }[]>`
    SELECT client_id, version_epoch, version_seq FROM whatsapp_session_tombstones WHERE client_id = ANY(${clientIds}::text[])`
}

export function distinctKeyChecks(sql: Sql) {
  return sql<{ key_check: string | null }[]>`SELECT DISTINCT key_check FROM whatsapp_sessions`
}

export function databaseId(sql: Sql) {
  return sql<{ database_id: string }[]>`SELECT database_id FROM whatsapp_keystore_identity`
}

export function ping(sql: Sql) {
  return sql`SELECT 1`
}

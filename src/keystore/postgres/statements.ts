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
    SELECT s.status, s.jid, v.version_epoch, v.version_seq, s.key_check, s.key_ids, s.incarnation, s.created_at, s.updated_at,
           c.creds, t.version_epoch AS tomb_epoch, t.version_seq AS tomb_seq
      FROM (SELECT ${clientId}::text AS client_id) AS x
      LEFT JOIN whatsapp_sessions s ON s.client_id = x.client_id
      LEFT JOIN whatsapp_session_versions v ON v.client_id = x.client_id
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
  /** Also move the session's updated_at (the store does it at most hourly: the row is wide). */
  touch: boolean
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
  const upsert = w.upserts.types.length === 0
    ? ''
    : `INSERT INTO whatsapp_session_keys (client_id, type, key_id, value)
      SELECT s.client_id, u.type, u.key_id, u.value
        FROM s, unnest(${param(w.upserts.types)}::text[], ${param(w.upserts.ids)}::text[], ${param(w.upserts.values)}::text[]) AS u(type, key_id, value)
      ON CONFLICT (client_id, type, key_id) DO UPDATE SET value = EXCLUDED.value`
  const del = w.deletes.types.length === 0
    ? ''
    : `,
    del AS (
      DELETE FROM whatsapp_session_keys k
       USING s, unnest(${param(w.deletes.types)}::text[], ${param(w.deletes.ids)}::text[]) AS d(type, key_id)
       WHERE k.client_id = s.client_id AND k.type = d.type AND k.key_id = d.key_id)`
  return { params, param, id, lease, upsert, del }
}

/**
 * One write to a session the database already has, in ONE statement (atomic, one round trip): the
 * version moves only if the new one is newer and the lease (when given) still carries the token;
 * otherwise nothing is written. The version has a narrow row of its own, so the per-write update stays
 * cheap; the session row changes only for status, jid and the hourly updated_at. With keys to upsert,
 * the upsert is the statement itself, and its row count (from the command tag: no row comes back,
 * which costs less than RETURNING or a final SELECT) says whether it applied. Resolves to whether it
 * applied.
 */
export async function updateStatement(sql: Sql, w: Write): Promise<boolean> {
  const { params, param, id, lease, upsert, del } = writeText(w)
  const [epoch, seq] = [param(w.epoch), param(w.seq)]
  const sets = [
    w.status === undefined ? '' : `, status = ${param(w.status)}::text`,
    w.jid === undefined ? '' : `, jid = ${param(w.jid)}::text`,
  ].join('')
  const row = sets === '' && !w.touch ? '' : `,
    st AS (UPDATE whatsapp_sessions w SET updated_at = now()${sets} FROM s WHERE w.client_id = s.client_id)`
  const creds = w.creds === undefined ? '' : `,
    cr AS (UPDATE whatsapp_session_creds c SET creds = ${param(w.creds)}::text FROM s WHERE c.client_id = s.client_id)`
  const result = await sql.unsafe<Array<{ applied?: number }>>(`
    WITH s AS (
      UPDATE whatsapp_session_versions SET version_epoch = ${epoch}::bigint, version_seq = ${seq}::bigint
       WHERE client_id = ${id} AND (version_epoch, version_seq) < (${epoch}::bigint, ${seq}::bigint) ${lease}
      RETURNING client_id
    )${row}${creds}${del}
    ${upsert === '' ? 'SELECT count(*)::int AS applied FROM s' : upsert}`, params as never[], { prepare: true })
  return upsert === '' ? (result[0]?.applied ?? 0) > 0 : result.count > 0
}

/**
 * The first write of a session (it must carry creds), in ONE statement: creates its rows unless the
 * lease guard fails, a tombstone says the session was deleted at this version or later, or the row
 * exists already (then `applied` is 0: the caller writes it as an update).
 */
export function createStatement(sql: Sql, w: Write & { creds: string; keyCheck: string | null; keyIds: string }) {
  const { params, param, id, lease, upsert, del } = writeText(w)
  const [epoch, seq] = [param(w.epoch), param(w.seq)]
  const keys = `${upsert === '' ? '' : `,
    up AS (${upsert})`}${del}`
  return sql.unsafe<{ applied: number; incarnation: string | null }[]>(`
    WITH ok AS (
      SELECT true AS ok
       WHERE NOT EXISTS (SELECT 1 FROM whatsapp_session_tombstones t
                          WHERE t.client_id = ${id} AND (t.version_epoch, t.version_seq) >= (${epoch}::bigint, ${seq}::bigint))
         ${lease}
    ),
    row AS (
      INSERT INTO whatsapp_sessions (client_id, status, jid, key_check, key_ids)
      SELECT ${id}, coalesce(${param(w.status ?? null)}::text, 'inactive'), ${param(w.jid ?? null)}::text, ${param(w.keyCheck)}::text, ${param(w.keyIds)}::text
        FROM ok
      ON CONFLICT (client_id) DO NOTHING
      RETURNING client_id, incarnation
    ),
    s AS (
      INSERT INTO whatsapp_session_versions (client_id, version_epoch, version_seq)
      SELECT client_id, ${epoch}::bigint, ${seq}::bigint FROM row
      RETURNING client_id
    ),
    cr AS (
      INSERT INTO whatsapp_session_creds (client_id, creds) SELECT client_id, ${param(w.creds)}::text FROM s)${keys}
    SELECT count(*)::int AS applied, (SELECT incarnation FROM row) AS incarnation FROM s`, params as never[], { prepare: true })
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
    SELECT version_epoch AS epoch, version_seq AS seq FROM whatsapp_session_versions WHERE client_id = ${clientId} FOR UPDATE`
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

/** The session's rows (session, version, creds); returns the row's incarnation (new when the row was created). */
export function upsertSession(sql: Sql, r: SessionColumns) {
  return sql<{ incarnation: string }[]>`
    WITH row AS (
      INSERT INTO whatsapp_sessions AS s (client_id, status, jid, key_check, key_ids, created_at)
      VALUES (${r.clientId}, ${r.status}, ${r.jid}, ${r.keyCheck}, ${r.keyIds}, ${r.createdAt}::timestamptz)
      ON CONFLICT (client_id) DO UPDATE SET
        status = EXCLUDED.status, jid = EXCLUDED.jid, key_check = EXCLUDED.key_check, key_ids = EXCLUDED.key_ids, updated_at = now()
      WHERE s.client_id = ${r.clientId}
      RETURNING client_id, incarnation
    ),
    v AS (
      INSERT INTO whatsapp_session_versions (client_id, version_epoch, version_seq)
      SELECT client_id, ${r.epoch}::bigint, ${r.seq}::bigint FROM row
      ON CONFLICT (client_id) DO UPDATE SET version_epoch = EXCLUDED.version_epoch, version_seq = EXCLUDED.version_seq
    ),
    cr AS (
      INSERT INTO whatsapp_session_creds (client_id, creds) SELECT client_id, ${r.creds}::text FROM row
      ON CONFLICT (client_id) DO UPDATE SET creds = EXCLUDED.creds)
    SELECT incarnation FROM row`
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
    WITH v AS (
      SELECT version_epoch, version_seq FROM whatsapp_session_versions WHERE client_id = ${clientId}
    ),
    gone AS (
      DELETE FROM whatsapp_sessions WHERE client_id = ${clientId} RETURNING client_id
    ),
    tomb AS (
      INSERT INTO whatsapp_session_tombstones AS t (client_id, version_epoch, version_seq)
      SELECT gone.client_id, v.version_epoch, v.version_seq FROM gone, v
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

// The lease's SQL: each operation is ONE short statement (autocommit), so it works through
// Supabase's transaction pooler (port 6543): no advisory locks, no LISTEN, no session state, and
// nothing that relies on named prepared statements (fine with postgres.js `prepare: false`).
// Expiry is always judged on the database clock (now()); only the local safety deadline uses the
// local monotonic clock.
import type { LeaseRow, LeaseSql } from './types.js'

/** One row as the acquire/renew statements return it: whether we hold it, and the row after the statement. */
export interface LeaseOutcome {
  ok: boolean
  owner: string
  fencingToken: number
  expiresAt: Date
  takeovers: number
  /** expires_at - now() on the database clock, in ms (negative once expired). */
  remainingMs: number
}

interface OutcomeRow {
  ok: boolean
  owner: string
  fencing_token: string
  expires_at: Date
  takeovers: string
  remaining_ms: number
}

export function parseOutcome(rows: readonly OutcomeRow[]): LeaseOutcome | null {
  const row = rows[0]
  return row ? toOutcome(row) : null
}

function toOutcome(row: OutcomeRow): LeaseOutcome {
  return {
    ok: row.ok,
    owner: row.owner,
    fencingToken: Number(row.fencing_token),
    expiresAt: row.expires_at,
    takeovers: Number(row.takeovers),
    remainingMs: row.remaining_ms,
  }
}

/** Outcomes of a batch statement by client id (a client id with no row in the answer is absent). */
export function parseOutcomes(rows: readonly (OutcomeRow & { client_id: string })[]): Map<string, LeaseOutcome> {
  return new Map(rows.map((row) => [row.client_id, toOutcome(row)]))
}

/**
 * Insert the lease, take it over if it has expired (token + 1; takeovers + 1 when the owner changes),
 * or extend it if it is already ours and live (same token). Otherwise returns the current row with
 * ok = false. null only when a concurrent insert committed after this statement's snapshot (retry).
 */
export function acquireStatement(sql: LeaseSql, clientId: string, owner: string, ttlMs: number) {
  return acquireManyStatement(sql, [clientId], owner, ttlMs)
}

/**
 * Extend a live lease we hold under exactly this token. ok = false (with the current row) when it
 * expired or changed hands: the token is then dead for good (a later acquire bumps it).
 */
export function renewStatement(sql: LeaseSql, clientId: string, owner: string, fencingToken: number, ttlMs: number) {
  return sql<OutcomeRow[]>`
    WITH renewed AS (
      UPDATE whatsapp_session_leases
         SET expires_at = now() + ${ttlMs}::int * interval '1 millisecond', renewed_at = now()
       WHERE client_id = ${clientId} AND owner = ${owner}
         AND fencing_token = ${fencingToken} AND expires_at > now()
      RETURNING true AS ok, owner, fencing_token::text, expires_at, takeovers::text,
                (extract(epoch FROM expires_at - now()) * 1000)::float8 AS remaining_ms
    )
    SELECT * FROM renewed
    UNION ALL
    SELECT false, owner, fencing_token::text, expires_at, takeovers::text,
           (extract(epoch FROM expires_at - now()) * 1000)::float8
      FROM whatsapp_session_leases
     WHERE client_id = ${clientId} AND NOT EXISTS (SELECT 1 FROM renewed)
  `
}

/**
 * Expire our live lease now, so a standby's next attempt takes it over. The row stays: the fencing
 * token must keep increasing across hand-overs (the keystore compares it).
 */
export function releaseStatement(sql: LeaseSql, clientId: string, owner: string, fencingToken?: number) {
  return fencingToken === undefined
    ? sql`
      UPDATE whatsapp_session_leases SET expires_at = now() - interval '1 millisecond'
       WHERE client_id = ${clientId} AND owner = ${owner} AND expires_at > now()
      RETURNING client_id`
    : sql`
      UPDATE whatsapp_session_leases SET expires_at = now() - interval '1 millisecond'
       WHERE client_id = ${clientId} AND owner = ${owner} AND fencing_token = ${fencingToken}
         AND expires_at > now()
      RETURNING client_id`
}

interface ReadRow {
  client_id: string
  owner: string
  fencing_token: string
  expires_at: Date
  acquired_at: Date
  renewed_at: Date
  takeovers: string
  live: boolean
}

export async function readLease(sql: LeaseSql, clientId: string): Promise<LeaseRow | null> {
  const [row] = await sql<ReadRow[]>`
    SELECT client_id, owner, fencing_token::text, expires_at, acquired_at, renewed_at, takeovers::text,
           expires_at > now() AS live
      FROM whatsapp_session_leases WHERE client_id = ${clientId}`
  if (!row) return null
  return {
    clientId: row.client_id,
    owner: row.owner,
    fencingToken: Number(row.fencing_token),
    expiresAt: row.expires_at,
    acquiredAt: row.acquired_at,
    renewedAt: row.renewed_at,
    takeovers: Number(row.takeovers),
    live: row.live,
  }
}

// Batch statements: one per tick for every lease this instance holds or wants, whatever their number,
// so the database load of idle sessions does not grow with them. Rows are locked in client id order
// (ORDER BY ... FOR UPDATE, and the ordered insert) so two instances' batches cannot deadlock. The
// list travels as one JSON text parameter: postgres.js array parameters depend on a per-connection
// type lookup that a fresh pooled connection has not done yet.

type BatchRow = OutcomeRow & { client_id: string }

/** acquireStatement for many client ids at once: one row per client id (absent: retry, as above). */
export function acquireManyStatement(sql: LeaseSql, clientIds: readonly string[], owner: string, ttlMs: number) {
  return sql<BatchRow[]>`
    WITH input AS (
      SELECT DISTINCT value AS client_id FROM jsonb_array_elements_text(${JSON.stringify(clientIds)}::text::jsonb)
    ), attempt AS (
      INSERT INTO whatsapp_session_leases AS l
        (client_id, owner, fencing_token, expires_at, acquired_at, renewed_at, takeovers)
      SELECT client_id, ${owner}, 1, now() + ${ttlMs}::int * interval '1 millisecond', now(), now(), 0
        FROM input ORDER BY client_id
      ON CONFLICT (client_id) DO UPDATE SET
        fencing_token = CASE WHEN l.owner = excluded.owner AND l.expires_at > now()
                             THEN l.fencing_token ELSE l.fencing_token + 1 END,
        acquired_at   = CASE WHEN l.owner = excluded.owner AND l.expires_at > now()
                             THEN l.acquired_at ELSE now() END,
        takeovers     = CASE WHEN l.owner = excluded.owner THEN l.takeovers ELSE l.takeovers + 1 END,
        owner         = excluded.owner,
        renewed_at    = now(),
        expires_at    = excluded.expires_at
      WHERE l.owner = excluded.owner OR l.expires_at <= now()
      RETURNING l.client_id, true AS ok, l.owner, l.fencing_token::text, l.expires_at, l.takeovers::text,
                (extract(epoch FROM l.expires_at - now()) * 1000)::float8 AS remaining_ms
    )
    SELECT * FROM attempt
    UNION ALL
    SELECT l.client_id, false, l.owner, l.fencing_token::text, l.expires_at, l.takeovers::text,
           (extract(epoch FROM l.expires_at - now()) * 1000)::float8
      FROM whatsapp_session_leases l JOIN input i ON i.client_id = l.client_id
     WHERE NOT EXISTS (SELECT 1 FROM attempt a WHERE a.client_id = l.client_id)
  `
}

/** A lease a renewal did not extend, as its row is now (every field null when the row is gone). */
export interface RenewRefusal {
  owner: string | null
  fencingToken: number | null
  expiresAt: Date | null
  takeovers: number
}

/** What one renewal of many leases answers: when the renewed ones now expire, and the ones that were not. */
export interface RenewMany {
  /** Every lease renewed by the statement expires at this database time (now() + ttl, one value). */
  expiresAt: Date
  /** The leases not renewed (expired, changed hands or gone), by client id. */
  failed: Map<string, RenewRefusal>
}

/**
 * Extend every lease we hold under these tokens, in one statement. Each renewed lease gets the same
 * expires_at (now() is the statement's), so the answer is one summary row plus a row per lease that
 * was NOT renewed: with hundreds of sessions, an idle heartbeat parses one row, not hundreds.
 */
export async function renewManyStatement(
  sql: LeaseSql, leases: readonly { clientId: string; fencingToken: number }[], owner: string, ttlMs: number,
): Promise<RenewMany> {
  const rows = await sql<{ client_id: string | null; owner: string | null; fencing_token: string | null; expires_at: Date | null; takeovers: string }[]>`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(leases.map((l) => ({ client_id: l.clientId, fencing_token: l.fencingToken })))}::text::jsonb)
               AS i(client_id text, fencing_token bigint)
    ), locked AS (
      SELECT l.client_id FROM whatsapp_session_leases l
        JOIN input i ON i.client_id = l.client_id AND i.fencing_token = l.fencing_token
       WHERE l.owner = ${owner} AND l.expires_at > now()
       ORDER BY l.client_id
         FOR UPDATE OF l
    ), renewed AS (
      UPDATE whatsapp_session_leases l
         SET expires_at = now() + ${ttlMs}::int * interval '1 millisecond', renewed_at = now()
        FROM locked WHERE l.client_id = locked.client_id
      RETURNING l.client_id
    )
    SELECT NULL::text AS client_id, NULL::text AS owner, NULL::text AS fencing_token,
           now() + ${ttlMs}::int * interval '1 millisecond' AS expires_at, '0' AS takeovers
    UNION ALL
    SELECT i.client_id, l.owner, l.fencing_token::text, l.expires_at, coalesce(l.takeovers, 0)::text
      FROM input i
      LEFT JOIN whatsapp_session_leases l ON l.client_id = i.client_id
     WHERE NOT EXISTS (SELECT 1 FROM renewed r WHERE r.client_id = i.client_id)
  `
  // The summary row is the one without a client id (UNION ALL promises no order).
  let expiresAt: Date | null = null
  const failed = new Map<string, RenewRefusal>()
  for (const row of rows) {
    if (row.client_id === null) {
      expiresAt = row.expires_at
      continue
    }
    failed.set(row.client_id, {
      owner: row.owner,
      fencingToken: row.fencing_token === null ? null : Number(row.fencing_token),
      expiresAt: row.expires_at,
      takeovers: Number(row.takeovers),
    })
  }
  return { expiresAt: expiresAt as Date, failed }
}

/**
 * The current rows of many client ids, read only (standbys placed on another instance learn who holds
 * their session without trying to take it). ok is always false.
 */
export function readManyStatement(sql: LeaseSql, clientIds: readonly string[]) {
  return sql<BatchRow[]>`
    SELECT l.client_id, false AS ok, l.owner, l.fencing_token::text, l.expires_at, l.takeovers::text,
           (extract(epoch FROM l.expires_at - now()) * 1000)::float8 AS remaining_ms
      FROM whatsapp_session_leases l
     WHERE l.client_id IN (SELECT value FROM jsonb_array_elements_text(${JSON.stringify(clientIds)}::text::jsonb))
  `
}

/** Expire every live lease this owner holds (shutdown): the standbys take over at their next poll. */
export function releaseAllStatement(sql: LeaseSql, owner: string) {
  return sql<{ client_id: string }[]>`
    UPDATE whatsapp_session_leases l SET expires_at = now() - interval '1 millisecond'
      FROM (SELECT client_id FROM whatsapp_session_leases
             WHERE owner = ${owner} AND expires_at > now()
             ORDER BY client_id FOR UPDATE) AS mine
     WHERE l.client_id = mine.client_id
    RETURNING l.client_id`
}

/**
 * Remove a deleted session's lease row, unless another instance holds it live (it runs the session
 * there). The session's stored keys are gone with it, so its fencing token can start again at 1.
 */
export function deleteLeaseStatement(sql: LeaseSql, clientId: string, owner: string) {
  return sql<{ client_id: string }[]>`
    DELETE FROM whatsapp_session_leases
     WHERE client_id = ${clientId} AND (owner = ${owner} OR expires_at <= now())
    RETURNING client_id`
}

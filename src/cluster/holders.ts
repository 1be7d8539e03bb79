// Who holds which session (the cluster-wide session list: every live lease row in one statement), and
// whether a session nobody holds will be taken over (it is stored and linked: placement resumes it).
import type { Sql } from 'postgres'

export interface LiveHolder {
  /** The holding instance's id (its lease owner id). */
  owner: string
  acquiredAt: Date
}

/** The live lease of every session (expired ones are nobody's), by client id. */
export async function liveHolders(sql: Sql): Promise<Map<string, LiveHolder>> {
  const rows = await sql<{ client_id: string; owner: string; acquired_at: Date }[]>`
    SELECT client_id, owner, acquired_at FROM whatsapp_session_leases WHERE expires_at > now()`
  return new Map(rows.map((r) => [r.client_id, { owner: r.owner, acquiredAt: r.acquired_at }]))
}

/** A stored, linked session: some instance resumes it (one a session never linked is not). */
export async function isLinkedSession(sql: Sql, clientId: string): Promise<boolean> {
  const rows = await sql`SELECT 1 FROM whatsapp_sessions WHERE client_id = ${clientId} AND status = 'active'`
  return rows.length > 0
}

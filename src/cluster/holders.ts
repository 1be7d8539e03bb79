// Who holds which session, for the cluster-wide session list: every live lease row in one statement.
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

// Test helpers for the lease: a database with the lease table, and managers on their own pools.
import postgres from 'postgres'
import { createMigratedDatabase } from '../helpers/db.js'
import type { Teardown } from '../helpers/teardown.js'
import { createLeaseManager } from '../../src/lease/index.js'
import type { LeaseManagerOptions } from '../../src/lease/index.js'

/** A fresh migrated database; `sql` is a pool on it (ended at teardown). */
export async function leaseDatabase(t: Teardown): Promise<{ url: string; sql: postgres.Sql }> {
  const { url, sql } = await createMigratedDatabase(t, 'wa_lease', { max: 4 })
  return { url, sql }
}

/** A pool like production's pooler setup (prepare: false), ended at teardown. */
export function pool(t: Teardown, url: string, extra: postgres.Options<{}> = {}): postgres.Sql {
  const sql = postgres(url, { max: 2, prepare: false, onnotice: () => {}, ...extra })
  t.teardown(() => sql.end({ timeout: 1 }))
  return sql
}

/**
 * A manager on its own pool. The ttl and statement timeout are generous so that a loaded machine never
 * lets a lease expire or a statement time out between two steps of a test: a test makes a lease expire
 * with expireInDatabase, and tests about timing pass a manual clock and their own ttl.
 */
export function manager(t: Teardown, url: string, owner: string, options: Partial<LeaseManagerOptions> = {}) {
  return createLeaseManager({ sql: pool(t, url), owner, ttlMs: 60_000, statementTimeoutMs: 5000, ...options })
}

/** A pool that counts the lease statements it runs (postgres.js debug hook). */
export function countingPool(t: Teardown, url: string): { sql: postgres.Sql; statements: () => number } {
  let n = 0
  const sql = pool(t, url, {
    debug: (_connection: number, query: string) => {
      if (/whatsapp_session_leases/.test(query)) n++
    },
  })
  return { sql, statements: () => n }
}

/** Makes the database consider the lease expired, as its clock would one ttl after the last renewal. */
export async function expireInDatabase(sql: postgres.Sql, clientId: string): Promise<void> {
  await sql`UPDATE whatsapp_session_leases SET expires_at = now() - interval '1 millisecond' WHERE client_id = ${clientId}`
}

/** Resolves with the value the next time fn is called (a one-shot callback capture). */
export function nextCall<T>(): { fn: (v: T) => void; promise: Promise<T> } {
  let fn!: (v: T) => void
  const promise = new Promise<T>((r) => { fn = r })
  return { fn, promise }
}

// Test helpers for the lease: a database with the lease table, and managers on their own pools.
import postgres from 'postgres'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { createTestDatabase } from '../helpers/db.js'
import { createLeaseManager } from '../../src/lease/index.js'
import type { LeaseManagerOptions } from '../../src/lease/index.js'

interface Teardown { teardown(fn: () => unknown): void }

const root = fileURLToPath(new URL('../../', import.meta.url))

/** Applies the migrations with the project's runner once it exists, else 002 (the lease table) by hand. */
async function applyMigrations(sql: postgres.Sql): Promise<void> {
  if (existsSync(`${root}src/db/migrate.ts`)) {
    const mod = (await import(`${root}src/db/migrate.ts`)) as { migrate?: (sql: postgres.Sql) => Promise<unknown> }
    if (typeof mod.migrate === 'function') {
      await mod.migrate(sql)
      return
    }
  }
  await sql.unsafe(await readFile(`${root}db/migrations/002_session_leases.sql`, 'utf8'))
}

/** A fresh database with the lease table; `sql` is a direct admin-free pool on it (ended at teardown). */
export async function leaseDatabase(t: Teardown): Promise<{ url: string; sql: postgres.Sql }> {
  const { url } = await createTestDatabase(t, 'wa_lease')
  const sql = postgres(url, { max: 4, onnotice: () => {} })
  t.teardown(() => sql.end({ timeout: 1 }))
  await applyMigrations(sql)
  return { url, sql }
}

/** A pool like production's pooler setup (prepare: false), ended at teardown. */
export function pool(t: Teardown, url: string, extra: postgres.Options<{}> = {}): postgres.Sql {
  const sql = postgres(url, { max: 2, prepare: false, onnotice: () => {}, ...extra })
  t.teardown(() => sql.end({ timeout: 1 }))
  return sql
}

/**
 * A manager on its own pool. The generous statement timeout keeps connection set-up under a loaded
 * test run from counting as a failure; tests about timeouts pass their own.
 */
export function manager(t: Teardown, url: string, owner: string, options: Partial<LeaseManagerOptions> = {}) {
  return createLeaseManager({ sql: pool(t, url), owner, ttlMs: 600, statementTimeoutMs: 5000, ...options })
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

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

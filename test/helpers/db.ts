// Each test file gets its own real Postgres database, created here and dropped at teardown.
import postgres from 'postgres'
import { randomBytes } from 'node:crypto'
import { createSql, migrate, type Sql } from '../../src/db/index.js'
import type { Teardown } from './teardown.js'

export const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'


export function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL)
  url.pathname = `/${name}`
  return url.toString()
}

/** Creates an empty database for this test file; returns its URL. Dropped (forcefully) at teardown. */
export async function createTestDatabase(t: Teardown, prefix = 'wa_test'): Promise<{ url: string; name: string }> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} })
  try {
    await admin.unsafe(`CREATE DATABASE "${name}"`)
  } finally {
    await admin.end()
  }
  t.teardown(async () => {
    const a = postgres(ADMIN_URL, { max: 1, onnotice: () => {} })
    try {
      await a.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
    } finally {
      await a.end()
    }
  })
  return { url: databaseUrl(name), name }
}

/** A fresh database with every migration applied, plus a small client for assertions; both go at teardown. */
export async function createMigratedDatabase(t: Teardown, prefix = 'wa_test', options: { max?: number } = {}): Promise<{ url: string; name: string; sql: Sql }> {
  const db = await createTestDatabase(t, prefix)
  const sql = createSql(db.url, { max: options.max ?? 2 })
  // Registered after the database's teardown, so it runs first (tap runs teardowns in reverse).
  t.teardown(() => sql.end({ timeout: 2 }))
  await migrate(sql)
  return { ...db, sql }
}

/** The same, under the name the keystore tests use. */
export const migratedDatabase = (t: Teardown, prefix = 'wa_ks') => createMigratedDatabase(t, prefix)

/** Counts statements sent through a pool created with this hook as its `debug` option. */
export function queryCounter() {
  const queries: string[] = []
  return {
    debug: (_connection: number, query: string) => {
      const text = query.replace(/\s+/g, ' ').trim()
      // postgres.js reads the array types once per new connection: set-up, not a statement of ours.
      if (!/^select b\.oid, b\.typarray from pg_catalog\.pg_type/i.test(text)) queries.push(text)
    },
    queries,
    reset() {
      queries.length = 0
    },
  }
}

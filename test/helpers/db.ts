// Each test file gets its own real Postgres database, created here and dropped at teardown.
import postgres from 'postgres'
import { randomBytes } from 'node:crypto'
import { createSql, migrate, type Sql } from '../../src/db/index.js'

export const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

interface Teardown { teardown(fn: () => unknown): void }

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
export async function createMigratedDatabase(t: Teardown, prefix = 'wa_test'): Promise<{ url: string; sql: Sql }> {
  const { url } = await createTestDatabase(t, prefix)
  const sql = createSql(url, { max: 2 })
  // Registered after the database's teardown, so it runs first (tap runs teardowns in reverse).
  t.teardown(() => sql.end({ timeout: 2 }))
  await migrate(sql)
  return { url, sql }
}

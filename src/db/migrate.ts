// Applies db/migrations in order, each in its own transaction, recording versions in schema_migrations.
// Two migrators starting at once (two machines' release commands) serialise on a transaction-scoped
// advisory lock, which works through a transaction pooler; the second finds the work done.
import type { Logger } from 'pino'
import type { Sql } from './connection.js'
import { readMigrations } from './migrations.js'

// Any constant shared by every migrator of this schema ("wa_migr" in ASCII).
const LOCK_KEY = 0x77615f6d696772

// Supabase exposes the public schema to these roles through its REST API: none of our tables is theirs.
const REVOKE_SUPABASE_ROLES = `
  DO $$
  BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
      REVOKE ALL ON schema_migrations FROM anon;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
      REVOKE ALL ON schema_migrations FROM authenticated;
    END IF;
  END
  $$`

export interface MigrateOptions {
  logger?: Pick<Logger, 'info'>
  /** Folder of the .sql files (default: db/migrations at the project root). */
  dir?: string
}

export interface MigrateResult {
  /** Files applied by this call, in order ("001_sessions.sql"). */
  applied: string[]
  /** Files another run (or a concurrent migrator) had applied. */
  alreadyApplied: string[]
}

export async function migrate(sql: Sql, options: MigrateOptions = {}): Promise<MigrateResult> {
  const migrations = await readMigrations(options.dir)
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${LOCK_KEY})`
    await tx`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version    text PRIMARY KEY,
        name       text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`
    await tx`ALTER TABLE schema_migrations ENABLE ROW LEVEL SECURITY`
    await tx.unsafe(REVOKE_SUPABASE_ROLES)
  })
  const result: MigrateResult = { applied: [], alreadyApplied: [] }
  for (const m of migrations) {
    const done = await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${LOCK_KEY})`
      const [row] = await tx`SELECT 1 AS present FROM schema_migrations WHERE version = ${m.version}`
      if (row) return true
      await tx.unsafe(m.sql)
      await tx`INSERT INTO schema_migrations (version, name) VALUES (${m.version}, ${m.file})`
      return false
    })
    if (done) {
      result.alreadyApplied.push(m.file)
    } else {
      result.applied.push(m.file)
      options.logger?.info({ migration: m.file }, 'migration applied')
    }
  }
  return result
}

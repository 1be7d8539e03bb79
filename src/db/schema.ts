// The start-up check: is every migration in db/migrations applied? If not, say exactly what to run.
import { StoreDataError } from '../lib/store-errors.js'
import type { Sql } from './connection.js'
import { readMigrations, type Migration } from './migrations.js'

export class SchemaNotCurrentError extends StoreDataError {
  readonly code = 'SCHEMA_NOT_CURRENT'
  constructor(readonly missing: string[]) {
    super(
      `The database schema is not current: migration${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ` +
        `${missing.length > 1 ? 'are' : 'is'} not applied. Run \`npm run db:migrate\` with DATABASE_URL set, ` +
        `or paste ${missing.map((f) => `db/migrations/${f}`).join(', then ')} into Supabase's SQL editor in that order, then start again.`,
    )
    this.name = 'SchemaNotCurrentError'
  }
}

async function existingTables(sql: Sql, names: string[]): Promise<Set<string>> {
  if (names.length === 0) return new Set()
  const rows = await sql<{ name: string }[]>`
    SELECT c.relname AS name FROM pg_class c
     WHERE c.relname = ANY(${names}::text[]) AND c.relkind IN ('r', 'p') AND pg_table_is_visible(c.oid)`
  return new Set(rows.map((r) => r.name))
}

/**
 * The migration files not applied to this database, in order (empty = current). A migration that is
 * not recorded but whose tables all exist was pasted by hand: it counts as applied.
 */
export async function pendingMigrations(sql: Sql, options: { dir?: string } = {}): Promise<string[]> {
  const migrations = await readMigrations(options.dir)
  const [{ present }] = await sql<{ present: boolean }[]>`SELECT to_regclass('schema_migrations') IS NOT NULL AS present`
  const recorded = new Set<string>()
  if (present) {
    for (const r of await sql<{ version: string }[]>`SELECT version FROM schema_migrations`) recorded.add(r.version)
  }
  const unrecorded: Migration[] = migrations.filter((m) => !recorded.has(m.version))
  const tables = await existingTables(sql, [...new Set(unrecorded.flatMap((m) => m.tables))])
  return unrecorded.filter((m) => m.tables.length === 0 || !m.tables.every((t) => tables.has(t))).map((m) => m.file)
}

/** Throws SchemaNotCurrentError naming what to run when a migration is missing. */
export async function checkSchema(sql: Sql, options: { dir?: string } = {}): Promise<void> {
  const missing = await pendingMigrations(sql, options)
  if (missing.length > 0) throw new SchemaNotCurrentError(missing)
}

/** The same check under the name the store calls it by. */
export const assertSchemaCurrent = checkSchema

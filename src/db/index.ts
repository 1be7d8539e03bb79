// Database plumbing shared by the keystore, the lease and the scripts.
export {
  createSql,
  connectionOptions,
  explainSupabaseConfig,
  redactUrl,
  supabaseOnlyNotice,
  isTransactionPooler,
  isSupabaseHost,
  type ConnectionOptions,
  type Sql,
  type SqlOptions,
} from './connection.js'
export { migrate, type MigrateOptions, type MigrateResult } from './migrate.js'
export { checkSchema, pendingMigrations, assertSchemaCurrent, SchemaNotCurrentError } from './schema.js'
export { readMigrations, type Migration } from './migrations.js'
export { migrationsDir, projectRoot } from './paths.js'

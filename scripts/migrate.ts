// npm run db:migrate: applies db/migrations to DATABASE_URL and prints what it did.
import { createSql, migrate, redactUrl } from '../src/db/index.js'

const databaseUrl = process.env.DATABASE_URL
if (!databaseUrl) {
  console.error('DATABASE_URL is not set: put the Postgres connection string (Supabase dashboard, Connect) in it.')
  process.exit(2)
}
const sql = createSql(databaseUrl, { max: 1, connectTimeout: 15 })
try {
  const { applied, alreadyApplied } = await migrate(sql)
  for (const file of applied) console.log(`applied ${file}`)
  console.log(
    applied.length === 0
      ? `Schema already current (${alreadyApplied.length} migrations) on ${redactUrl(databaseUrl)}.`
      : `Applied ${applied.length} migration(s); ${alreadyApplied.length} were already there (${redactUrl(databaseUrl)}).`,
  )
} catch (err) {
  console.error(`Migration failed on ${redactUrl(databaseUrl)}: ${err instanceof Error ? err.message : String(err)}`)
  process.exitCode = 1
} finally {
  await sql.end({ timeout: 5 })
}

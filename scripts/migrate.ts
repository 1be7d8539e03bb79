// npm run db:migrate: applies db/migrations to DATABASE_URL and prints what it did. Never prints the URL.
import { createSql, migrate } from '../src/db/index.js'

const databaseUrl = process.env.DATABASE_URL
if (!databaseUrl) {
  console.error('DATABASE_URL is not set: put the Postgres connection string (Supabase dashboard, Connect) in it, then run `npm run db:migrate` again.')
  process.exit(2)
}

let sql
try {
  sql = createSql(databaseUrl, { max: 1, connectTimeout: 15 })
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err))
  process.exit(2)
}
try {
  const { applied, alreadyApplied } = await migrate(sql)
  for (const file of applied) console.log(`applied ${file}`)
  console.log(
    applied.length === 0
      ? `Schema already current (${alreadyApplied.length} migrations applied earlier).`
      : `Applied ${applied.length} migration(s); ${alreadyApplied.length} were already there.`,
  )
} catch (err) {
  // postgres.js messages name the host at most, never the password; still, keep the URL out.
  const message = err instanceof Error ? err.message : String(err)
  console.error(`Migration failed: ${message.split(databaseUrl).join('<DATABASE_URL>')}`)
  process.exitCode = 1
} finally {
  await sql.end({ timeout: 5 })
}

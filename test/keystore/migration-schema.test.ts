// The store refuses to open in Postgres mode on an out-of-date schema, saying exactly what to run.
import t from 'tap'
import { createTestDatabase } from '../helpers/db.js'
import { readMigrations, SchemaNotCurrentError } from '../../src/db/index.js'
import { createSessionStore } from '../../src/keystore/index.js'
import { tempFolder } from './fixtures/tmp.js'

t.test('schema not current: typed error naming npm run db:migrate and the files in order; nothing written', async (t) => {
  const { url } = await createTestDatabase(t, 'wa_schema')
  const { sessions } = await tempFolder(t)
  const err = await createSessionStore({ sessionPath: sessions, databaseUrl: url }).then(
    () => null,
    (e: unknown) => e,
  )
  t.ok(err instanceof SchemaNotCurrentError, 'typed error')
  t.equal((err as SchemaNotCurrentError).code, 'SCHEMA_NOT_CURRENT')
  t.match((err as Error).message, /Run `npm run db:migrate`/)
  const files = (await readMigrations()).map((m) => `db/migrations/${m.file}`)
  t.same(files.slice(0, 3), ['db/migrations/001_sessions.sql', 'db/migrations/002_session_leases.sql', 'db/migrations/003_keystore_tombstones.sql'])
  t.ok(files.includes('db/migrations/008_instances.sql'), 'the instance registry is a migration')
  t.ok((err as Error).message.includes(`${files.join(', then ')} into Supabase's SQL editor in that order`), 'every migration file, in order')
  t.notMatch((err as Error).message, /postgres:\/\//, 'no connection string in the message')
})

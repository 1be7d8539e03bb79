// The store refuses to open in Postgres mode on an out-of-date schema, saying exactly what to run.
import t from 'tap'
import { createTestDatabase } from '../helpers/db.js'
import { SchemaNotCurrentError } from '../../src/db/index.js'
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
  t.match((err as Error).message, /db\/migrations\/001_sessions\.sql, then db\/migrations\/002_session_leases\.sql, then db\/migrations\/003_keystore_tombstones\.sql into Supabase's SQL editor in that order/)
  t.notMatch((err as Error).message, /postgres:\/\//, 'no connection string in the message')
})

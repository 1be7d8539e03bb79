// The migrator against real Postgres: RLS everywhere, Supabase roles locked out, concurrent migrators,
// and the start-up check naming the command to run.
import t from 'tap'
import postgres from 'postgres'
import { ADMIN_URL, createTestDatabase } from '../helpers/db.js'
import { checkSchema, createSql, migrate, pendingMigrations, readMigrations, SchemaNotCurrentError } from '../../src/db/index.js'

const TABLES = [
  'whatsapp_messages',
  'whatsapp_idempotency_keys',
  'whatsapp_message_queue',
  'whatsapp_sessions',
  'whatsapp_session_keys',
  'whatsapp_session_leases',
  'whatsapp_instances',
  'whatsapp_session_creds',
  'whatsapp_session_versions',
  'whatsapp_session_tombstones',
  'whatsapp_keystore_identity',
  'schema_migrations',
]

/** Supabase's API roles (cluster-wide: tolerate another test file having created them). */
async function ensureSupabaseRoles(): Promise<void> {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} })
  try {
    for (const role of ['anon', 'authenticated']) {
      await admin.unsafe(`
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN CREATE ROLE ${role} NOLOGIN; END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$`)
    }
  } finally {
    await admin.end()
  }
}

t.test('every migration file opens with a one-line why and has a unique version', async (t) => {
  const ms = await readMigrations()
  t.ok(ms.length >= 2)
  t.same(ms.slice(0, 2).map((m) => m.version), ['001', '002'])
  for (const m of ms) t.match(m.sql.split('\n')[0], /^-- why: \S/, m.file)
})

t.test('migrate applies everything once, records versions, enables RLS, revokes anon/authenticated', async (t) => {
  await ensureSupabaseRoles()
  const { url } = await createTestDatabase(t, 'wa_migr')
  const sql = createSql(url, { max: 2 })
  t.teardown(() => sql.end({ timeout: 1 }))
  const files = (await readMigrations()).map((m) => m.file)

  const first = await migrate(sql)
  t.same(first.applied, files)
  t.same(first.alreadyApplied, [])
  const second = await migrate(sql)
  t.same(second.applied, [])
  t.same(second.alreadyApplied, files)

  const recorded = await sql<{ version: string; name: string }[]>`SELECT version, name FROM schema_migrations ORDER BY version`
  t.same(recorded.map((r) => r.name), files)

  const rls = await sql<{ relname: string; relrowsecurity: boolean }[]>`
    SELECT relname, relrowsecurity FROM pg_class WHERE relname = ANY(${TABLES}) AND relkind = 'r' ORDER BY relname`
  t.equal(rls.length, TABLES.length)
  for (const r of rls) t.equal(r.relrowsecurity, true, `RLS on ${r.relname}`)

  for (const role of ['anon', 'authenticated']) {
    for (const table of TABLES) {
      for (const priv of ['SELECT', 'INSERT', 'UPDATE', 'DELETE']) {
        const [{ has }] = await sql<{ has: boolean }[]>`SELECT has_table_privilege(${role}, ${table}, ${priv}) AS has`
        t.equal(has, false, `${role} ${priv} ${table}`)
      }
    }
  }
  await t.resolves(checkSchema(sql))
  t.same(await pendingMigrations(sql), [])
})

t.test('the revoke removes privileges granted before the migration (Supabase default privileges)', async (t) => {
  await ensureSupabaseRoles()
  const { url } = await createTestDatabase(t, 'wa_migr')
  const sql = createSql(url, { max: 1 })
  t.teardown(() => sql.end({ timeout: 1 }))
  await sql.unsafe('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated')
  await migrate(sql)
  const [{ has }] = await sql<{ has: boolean }[]>`SELECT has_table_privilege('anon', 'whatsapp_session_keys', 'SELECT') AS has`
  t.equal(has, false)
  const [{ has: auth }] = await sql<{ has: boolean }[]>`SELECT has_table_privilege('authenticated', 'whatsapp_sessions', 'UPDATE') AS has`
  t.equal(auth, false)
})

t.test('two migrators starting at once on a fresh database both succeed; each version recorded once', async (t) => {
  const { url } = await createTestDatabase(t, 'wa_migr')
  const a = createSql(url, { max: 1 })
  const b = createSql(url, { max: 1 })
  t.teardown(() => Promise.all([a.end({ timeout: 1 }), b.end({ timeout: 1 })]))
  const [ra, rb] = await Promise.all([migrate(a), migrate(b)])
  const files = (await readMigrations()).map((m) => m.file)
  t.same([...ra.applied, ...rb.applied].sort(), files, 'every file applied by exactly one of them')
  const rows = await a<{ version: string; n: number }[]>`SELECT version, count(*)::int AS n FROM schema_migrations GROUP BY version ORDER BY version`
  t.equal(rows.length, files.length)
  for (const r of rows) t.equal(r.n, 1)
})

t.test('through a transaction-pooler style pool (prepare: false) too', async (t) => {
  const { url } = await createTestDatabase(t, 'wa_migr')
  const sql = createSql(`${url}?pgbouncer=true`, { max: 2 })
  t.teardown(() => sql.end({ timeout: 1 }))
  const r = await migrate(sql)
  t.ok(r.applied.length >= 2)
})

t.test('checkSchema on an empty database names the missing files and the command', async (t) => {
  const { url } = await createTestDatabase(t, 'wa_migr')
  const sql = createSql(url, { max: 1 })
  t.teardown(() => sql.end({ timeout: 1 }))
  const files = (await readMigrations()).map((m) => m.file)
  t.same(await pendingMigrations(sql), files)
  const err = await checkSchema(sql).then(
    () => null,
    (e: unknown) => e,
  )
  t.type(err, SchemaNotCurrentError)
  const e = err as SchemaNotCurrentError
  t.equal(e.code, 'SCHEMA_NOT_CURRENT')
  t.match(e.message, 'npm run db:migrate')
  t.match(e.message, "Supabase's SQL editor")
  for (const f of files) t.match(e.message, f)
  t.same(e.missing, files)
})

t.test('a migration pasted by hand into the SQL editor (not recorded) counts as applied', async (t) => {
  const { url } = await createTestDatabase(t, 'wa_migr')
  const sql = createSql(url, { max: 1 })
  t.teardown(() => sql.end({ timeout: 1 }))
  const ms = await readMigrations()
  await sql.unsafe(ms[0].sql)
  const pending = await pendingMigrations(sql)
  t.notOk(pending.includes(ms[0].file))
  t.ok(pending.includes(ms[1].file))
  // And the migrator then applies the rest (001 again is harmless: IF NOT EXISTS).
  await migrate(sql)
  t.same(await pendingMigrations(sql), [])
})

t.test('a failing migration rolls back alone and leaves earlier ones recorded', async (t) => {
  const { url } = await createTestDatabase(t, 'wa_migr')
  const sql = createSql(url, { max: 1 })
  t.teardown(() => sql.end({ timeout: 1 }))
  const dir = t.testdir({
    '001_ok.sql': '-- why: test\nCREATE TABLE IF NOT EXISTS t_ok (id int);',
    '002_bad.sql': '-- why: test\nCREATE TABLE IF NOT EXISTS t_half (id int);\nSELECT no_such_function();',
  })
  await t.rejects(migrate(sql, { dir }))
  const rows = await sql<{ version: string }[]>`SELECT version FROM schema_migrations ORDER BY version`
  t.same(rows.map((r) => r.version), ['001'])
  const [{ half }] = await sql<{ half: boolean }[]>`SELECT to_regclass('t_half') IS NOT NULL AS half`
  t.equal(half, false, 'the failed file left nothing behind')
})

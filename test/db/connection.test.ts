// What createSql derives from a URL alone: pooler -> prepare:false, Supabase -> TLS, no password in logs.
import t from 'tap'
import { connectionOptions, explainSupabaseConfig, redactUrl } from '../../src/db/index.js'

t.test('a direct local URL: prepared statements, no TLS', async (t) => {
  const c = connectionOptions('postgres://postgres:pw@127.0.0.1:5432/app')
  t.equal(c.prepare, true)
  t.equal(c.ssl, undefined)
  t.equal(c.pooler, false)
  t.equal(c.url, 'postgres://postgres:pw@127.0.0.1:5432/app')
})

t.test('Supabase direct host (5432): TLS required, prepared statements kept', async (t) => {
  const c = connectionOptions('postgresql://postgres:pw@db.abcdefgh.supabase.co:5432/postgres')
  t.equal(c.ssl, 'require')
  t.equal(c.prepare, true)
})

t.test('Supabase transaction pooler on 6543: prepare false and TLS', async (t) => {
  const c = connectionOptions('postgresql://postgres.abc:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres')
  t.equal(c.prepare, false)
  t.equal(c.pooler, true)
  t.equal(c.ssl, 'require')
})

t.test('pgbouncer=true on any port: prepare false, and the parameter is stripped', async (t) => {
  const c = connectionOptions('postgres://u:pw@pgbouncer.internal:5432/app?pgbouncer=true&application_name=x')
  t.equal(c.prepare, false)
  t.notMatch(c.url, /pgbouncer=/)
  t.match(c.url, /application_name=x/)
  t.equal(connectionOptions('postgres://u@h:5432/app?pgbouncer=false').prepare, true)
})

t.test('an explicit sslmode wins over the Supabase default', async (t) => {
  t.equal(connectionOptions('postgres://u:pw@db.x.supabase.co:5432/postgres?sslmode=disable').ssl, undefined)
})

t.test('a look-alike host is not Supabase', async (t) => {
  t.equal(connectionOptions('postgres://u:pw@supabase.co.evil.example:5432/db').ssl, undefined)
  t.equal(connectionOptions('postgres://u:pw@notsupabase.co:5432/db').ssl, undefined)
})

t.test('invalid URLs say so without echoing them', async (t) => {
  t.throws(() => connectionOptions('not a url with secret'), { message: /not a valid postgres:\/\/ URL/ })
  t.throws(() => connectionOptions('mysql://u:secret@h/db'), { message: /postgres:\/\// })
  try {
    connectionOptions('mysql://u:secret@h/db')
  } catch (err) {
    t.notMatch((err as Error).message, /secret/)
  }
})

t.test('redactUrl masks the password and password-like parameters', async (t) => {
  const r = redactUrl('postgres://user:s3cr3t@db.x.supabase.co:5432/postgres?password=p2&sslmode=require')
  t.notMatch(r, /s3cr3t|p2/)
  t.match(r, /user:\*\*\*@db\.x\.supabase\.co/)
  t.match(r, /sslmode=require/)
  t.equal(redactUrl('::::'), '(unparseable database URL)')
})

t.test('explainSupabaseConfig: one sentence only when DATABASE_URL is missing', async (t) => {
  const s = explainSupabaseConfig({ supabaseUrl: 'https://x.supabase.co', serviceRoleKey: 'k' })
  t.type(s, 'string')
  t.match(s, /talks to the database directly/)
  t.match(s, /DATABASE_URL/)
  t.match(s, /Supabase dashboard, Connect/)
  t.equal((s as string).split('. ').length, 1, 'one sentence')
  t.equal(explainSupabaseConfig({ supabaseUrl: 'https://x.supabase.co' }), s)
  t.equal(explainSupabaseConfig({ supabaseUrl: 'https://x.supabase.co', databaseUrl: 'postgres://h/db' }), null)
  t.equal(explainSupabaseConfig({}), null)
})

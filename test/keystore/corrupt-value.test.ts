// Postgres mode with a damaged value in one copy: the intact copy at the same version is used and the
// damaged one rewritten from it; with no intact copy, open() is refused with CORRUPT_VALUE naming the
// value's type, never blaming the encryption key.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { createSessionStore, StoreDataError } from '../../src/keystore/index.js'
import { migratedDatabase } from '../helpers/db.js'
import { tempFolder } from './fixtures/tmp.js'

const KEY = randomBytes(32).toString('base64')
const PRE_KEY = { private: randomBytes(32), public: randomBytes(32) }

type Sql = Awaited<ReturnType<typeof migratedDatabase>>['sql']

function recorder() {
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = []
  const at = (level: string) => (obj: Record<string, unknown>, msg: string) => void lines.push({ level, obj, msg })
  const logger = { info: at('info'), warn: at('warn'), error: at('error'), debug() {}, child: () => logger }
  return { logger: logger as never, lines }
}

async function seed(url: string, sessions: string, encryptionKey?: string) {
  const store = await createSessionStore({ sessionPath: sessions, databaseUrl: url, encryptionKey })
  const h = await store.open('x')
  h.state.creds.me = { id: '15550001111:7@s.whatsapp.net', name: 'X' }
  await h.saveCreds()
  await h.state.keys.set({ 'pre-key': { '7': PRE_KEY, '8': { private: randomBytes(32), public: randomBytes(32) } } })
  await store.close()
}

/** Flips one base64 character in the ciphertext of every stored pre-key value. */
async function flipPreKeys(sql: Sql): Promise<void> {
  const rows = await sql<{ key_id: string; value: string }[]>`SELECT key_id, value FROM whatsapp_session_keys WHERE client_id = 'x' AND type = 'pre-key'`
  for (const r of rows) {
    const flipped = r.value.replace(/(enc:v1:[^:]+:[^:]+:.{5})(.)/, (_m, head: string, c: string) => head + (c === 'A' ? 'B' : 'A'))
    await sql`UPDATE whatsapp_session_keys SET value = ${flipped} WHERE client_id = 'x' AND type = 'pre-key' AND key_id = ${r.key_id}`
  }
}

t.test('a flipped byte in a pre-key in the database: the intact mirror is used and the database repaired', async (t) => {
  const { url, sql } = await migratedDatabase(t)
  const { sessions } = await tempFolder(t)
  await seed(url, sessions, KEY)
  await flipPreKeys(sql)
  const { logger, lines } = recorder()
  const store = await createSessionStore({ sessionPath: sessions, databaseUrl: url, encryptionKey: KEY, logger })
  t.teardown(() => store.close())
  const h = await store.open('x')
  t.same((await h.state.keys.get('pre-key', ['7']))['7'], PRE_KEY, 'the value Baileys gets is the intact one')
  const warning = lines.find((l) => l.level === 'warn' && /database copy damaged/.test(l.msg))
  t.ok(warning, 'the repair is logged')
  t.match(String((warning?.obj.err as Error | undefined)?.message), /"pre-key" value failed its integrity check/, 'naming the value by type')
  t.notOk(lines.some((l) => /does not match/.test(JSON.stringify(l))), 'the key is never blamed')
  await rm(sessions, { recursive: true, force: true })
  const fresh = await createSessionStore({ sessionPath: sessions, databaseUrl: url, encryptionKey: KEY })
  t.teardown(() => fresh.close())
  await h.close()
  const again = await fresh.open('x')
  t.same((await again.state.keys.get('pre-key', ['7']))['7'], PRE_KEY, 'the database copy was rewritten intact')
})

t.test('no intact copy: CORRUPT_VALUE naming the type, a StoreDataError, nothing changed', async (t) => {
  const { url, sql } = await migratedDatabase(t)
  const { sessions } = await tempFolder(t)
  await seed(url, sessions, KEY)
  await flipPreKeys(sql)
  await rm(sessions, { recursive: true, force: true })
  const before = await sql`SELECT type, key_id, value FROM whatsapp_session_keys ORDER BY type, key_id`
  const store = await createSessionStore({ sessionPath: sessions, databaseUrl: url, encryptionKey: KEY })
  t.teardown(() => store.close())
  const err = await store.open('x').then(() => null, (e: unknown) => e)
  t.ok(err instanceof StoreDataError, 'fatal for the session')
  t.match(err, { code: 'CORRUPT_VALUE', valueType: 'pre-key', message: /"pre-key" value failed its integrity check/ })
  t.notMatch((err as Error).message, /SESSION_ENCRYPTION_KEY/)
  await t.rejects(store.verify('x'), { code: 'CORRUPT_VALUE' }, 'verify() says the same')
  t.same(await sql`SELECT type, key_id, value FROM whatsapp_session_keys ORDER BY type, key_id`, before, 'no row changed')
})

t.test('malformed creds in the database: the intact mirror at the same version is used, the row repaired', async (t) => {
  const { url, sql } = await migratedDatabase(t)
  const { sessions } = await tempFolder(t)
  await seed(url, sessions)
  const [{ creds: good }] = await sql<{ creds: string }[]>`SELECT creds FROM whatsapp_session_creds WHERE client_id = 'x'`
  await sql`UPDATE whatsapp_session_creds SET creds = '{"registrationId":"oops"}' WHERE client_id = 'x'`
  const store = await createSessionStore({ sessionPath: sessions, databaseUrl: url })
  t.teardown(() => store.close())
  const h = await store.open('x')
  t.equal(h.state.creds.me?.id, '15550001111:7@s.whatsapp.net', 'the session starts from the intact mirror')
  t.ok(Buffer.isBuffer(h.state.creds.noiseKey.private))
  const [{ creds }] = await sql<{ creds: string }[]>`SELECT creds FROM whatsapp_session_creds WHERE client_id = 'x'`
  t.equal(creds, good, 'the creds row is repaired')

  await h.close()
  await sql`UPDATE whatsapp_session_creds SET creds = 'not json' WHERE client_id = 'x'`
  await rm(sessions, { recursive: true, force: true })
  await t.rejects(store.open('x'), { code: 'CORRUPT_VALUE', message: /"creds"/ }, 'without the mirror it is refused, typed')
})

// Encryption at rest in the database: rows hold no plaintext; a wrong or missing key is a typed error
// at load and leaves every row as it was.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import type { SignalDataSet } from '@whiskeysockets/baileys'
import { createCodec } from '../../src/keystore/codec.js'
import { postgresBackend } from './fixtures/backends.js'

const createPostgresBackend = ({ sql, codec }: { sql: Parameters<typeof postgresBackend>[0]; codec: Parameters<typeof postgresBackend>[1] }) => postgresBackend(sql, codec)
import { migratedDatabase } from '../helpers/db.js'
import { canon, sampleCreds } from './fixtures/values.js'

const KEY = randomBytes(32).toString('base64')
const OTHER = randomBytes(32).toString('hex')
const MARKER = 'PLAINTEXT-MARKER-7f3a'
/** Any type, any value shape: the backend stores what Baileys (or a future Baileys) hands it. */
const keysOf = (k: Record<string, Record<string, unknown>>) => k as SignalDataSet
const SECRET = Buffer.from('0123456789abcdef-secret-bytes!!')

t.test('encrypted rows: no plaintext, key check stored, round trip with the right key', async (t) => {
  const { sql } = await migratedDatabase(t)
  const pg = createPostgresBackend({ sql, codec: createCodec({ encryptionKey: KEY }) })
  const creds = sampleCreds()
  creds.me = { id: '15550001111:7@s.whatsapp.net', name: MARKER }
  await pg.apply('enc', {
    creds,
    keys: keysOf({ session: { a: SECRET }, 'lid-mapping': { '15550001111': MARKER }, 'x-new': { id: { note: MARKER } } }),
    jid: '15550001111:7@s.whatsapp.net',
    version: { epoch: 0, seq: 1 },
  })
  const [row] = await sql<{ creds: string; key_check: string | null }[]>`SELECT c.creds, s.key_check FROM whatsapp_sessions s JOIN whatsapp_session_creds c USING (client_id) WHERE s.client_id = 'enc'`
  const keys = await sql<{ value: string }[]>`SELECT value FROM whatsapp_session_keys WHERE client_id = 'enc'`
  t.type(row.key_check, 'string', 'key check stored with the session')
  t.equal(keys.length, 3)
  const forbidden = [MARKER, SECRET.toString('base64'), SECRET.toString('hex'), SECRET.toString('latin1'), Buffer.from(creds.noiseKey.private).toString('base64')]
  for (const text of [row.creds, ...keys.map((k) => k.value)]) {
    t.match(text, /^enc:v1:/)
    for (const f of forbidden) t.notOk(text.includes(f), 'no plaintext in a stored value')
  }
  const s = await pg.load('enc')
  t.equal(canon(s?.creds), canon(creds))
  t.ok(SECRET.equals(s?.keys.get('session')?.get('a') as Buffer))
  t.equal(s?.keys.get('lid-mapping')?.get('15550001111'), MARKER)
})

t.test('wrong key, missing key, key on a plain session: typed errors, rows untouched', async (t) => {
  const { sql } = await migratedDatabase(t)
  const right = createPostgresBackend({ sql, codec: createCodec({ encryptionKey: KEY }) })
  await right.apply('enc', { creds: sampleCreds(), keys: keysOf({ session: { a: SECRET } }), version: { epoch: 0, seq: 1 } })
  const snapshotRows = async () => ({
    s: await sql`SELECT * FROM whatsapp_sessions s JOIN whatsapp_session_creds c USING (client_id) WHERE s.client_id = 'enc'`,
    k: await sql`SELECT * FROM whatsapp_session_keys WHERE client_id = 'enc' ORDER BY type, key_id`,
  })
  const before = await snapshotRows()

  await t.rejects(createPostgresBackend({ sql, codec: createCodec({ encryptionKey: OTHER }) }).load('enc'), { code: 'WRONG_ENCRYPTION_KEY' })
  await t.rejects(createPostgresBackend({ sql, codec: createCodec() }).load('enc'), { code: 'ENCRYPTION_KEY_REQUIRED' })
  t.same(await snapshotRows(), before, 'nothing changed by failed loads')

  const plain = createPostgresBackend({ sql, codec: createCodec() })
  await plain.apply('plain', { creds: sampleCreds(), keys: {}, version: { epoch: 0, seq: 1 } })
  await t.rejects(createPostgresBackend({ sql, codec: createCodec({ encryptionKey: KEY }) }).load('plain'), { code: 'SESSION_NOT_ENCRYPTED' })
  t.ok(await right.load('enc'), 'the right key still reads it')
})

// Opening a session reads each stored copy once and reports, before changing anything, the typed
// errors verify() reports: a caller about to open need not verify first (one read per session at boot).
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { createSessionStore } from '../../src/keystore/index.js'
import { migratedDatabase, queryCounter } from '../helpers/db.js'
import { tempFolder } from './fixtures/tmp.js'

const KEY = randomBytes(32).toString('base64')

t.test('Postgres mode: open() of a stored session is one round trip of reads, nothing else', async (t) => {
  const { url } = await migratedDatabase(t)
  const { sessions } = await tempFolder(t)
  const seed = await createSessionStore({ sessionPath: sessions, databaseUrl: url, encryptionKey: KEY })
  for (const id of ['a', 'b']) {
    const h = await seed.open(id)
    await h.saveCreds()
    await h.state.keys.set({ session: { s: Buffer.from(id) } })
  }
  await seed.close()

  const counter = queryCounter()
  const store = await createSessionStore({ sessionPath: sessions, databaseUrl: url, encryptionKey: KEY, database: { debug: counter.debug } })
  t.teardown(() => store.close())
  counter.reset()
  await store.open('a')
  t.same(counter.queries.map((q) => q.split(' ').slice(0, 4).join(' ')).sort(), [
    'SELECT database_id FROM whatsapp_keystore_identity',
    'SELECT s.status, s.jid, v.version_epoch,',
    'SELECT type, key_id, value',
  ], 'the session row, its keys, and (once per store) the database id')
  counter.reset()
  await store.open('b')
  t.equal(counter.queries.length, 2, 'the next session: its row and its keys')

  const wrong = await createSessionStore({ sessionPath: sessions, databaseUrl: url, encryptionKey: randomBytes(32).toString('base64') })
  t.teardown(() => wrong.close())
  await t.rejects(wrong.verify('a'), { code: 'WRONG_ENCRYPTION_KEY' })
  await t.rejects(wrong.open('a'), { code: 'WRONG_ENCRYPTION_KEY' }, 'open() says what verify() says')
})

// store.preflight(): the one cheap check before listening. A wrong or missing encryption key is found
// from one query (Postgres) or one session file (file mode), without opening any session.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { createSessionStore } from '../../src/keystore/index.js'
import { migratedDatabase } from '../helpers/db.js'

const KEY = randomBytes(32).toString('base64')
const OTHER = randomBytes(32).toString('hex')

async function storeOne(sessionPath: string, databaseUrl: string | undefined, encryptionKey: string | undefined) {
  const store = await createSessionStore({ sessionPath, databaseUrl, encryptionKey })
  const handle = await store.open('one')
  await handle.saveCreds()
  await handle.close()
  await store.close()
}

async function preflightCode(sessionPath: string, databaseUrl: string | undefined, encryptionKey: string | undefined) {
  const store = await createSessionStore({ sessionPath, databaseUrl, encryptionKey })
  try {
    await store.preflight()
    return 'ok'
  } catch (err) {
    return (err as { code?: string }).code ?? String(err)
  } finally {
    await store.close()
  }
}

for (const mode of ['file', 'postgres'] as const) {
  t.test(`${mode} mode: preflight compares the key with what is stored`, async (t) => {
    const dir = t.testdir()
    const url = mode === 'postgres' ? (await migratedDatabase(t)).url : undefined
    t.equal(await preflightCode(dir, url, KEY), 'ok', 'nothing stored: nothing to check')
    await storeOne(dir, url, KEY)
    // In Postgres mode the database is checked, not the mirror: remove the mirror to prove it.
    t.equal(await preflightCode(mode === 'postgres' ? t.testdir() : dir, url, KEY), 'ok', 'the right key passes')
    t.equal(await preflightCode(dir, url, OTHER), 'WRONG_ENCRYPTION_KEY')
    t.equal(await preflightCode(dir, url, undefined), 'ENCRYPTION_KEY_REQUIRED')
  })
}

// A wrong SESSION_ENCRYPTION_KEY stops start-up with a sentence that says so, and destroys nothing:
// in file mode, and in Postgres mode with the lease on (where the session would otherwise first wait
// for the lease, and fail only later).
import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import pino from 'pino'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { createSessionStore } from '../../src/keystore/index.js'
import { createMigratedDatabase } from '../helpers/db.js'
import { closedPort, tempDir, waitFor } from './helpers.js'

const KEY_1 = randomBytes(32).toString('base64')
const KEY_2 = randomBytes(32).toString('base64')

async function storeSession(sessionPath: string, databaseUrl?: string, clientId = 'default') {
  const store = await createSessionStore({ sessionPath, databaseUrl, encryptionKey: KEY_1 })
  const handle = await store.open(clientId)
  await handle.state.keys.set({ 'pre-key': { 1: { public: Buffer.alloc(32, 1), private: Buffer.alloc(32, 2) } } })
  await handle.saveCreds()
  await handle.close()
  await store.close()
}

async function folderHash(dir: string): Promise<string> {
  const h = createHash('sha256')
  for (const name of (await readdir(dir)).sort()) {
    if (name === '.lock') continue
    h.update(name).update(await readFile(join(dir, name)))
  }
  return h.digest('hex')
}

const startWith = async (env: Record<string, string>) =>
  buildApp({
    config: loadConfig({ NODE_ENV: 'test', WA_WS_URL: `ws://127.0.0.1:${await closedPort()}`, ...env }),
    logger: pino({ level: 'silent' }),
  })

t.test('file mode: the wrong key refuses to start and changes nothing', async (t) => {
  const sessionPath = await tempDir(t)
  await storeSession(sessionPath)
  const before = await folderHash(sessionPath)
  await t.rejects(startWith({ SESSION_PATH: sessionPath, SESSION_ENCRYPTION_KEY: KEY_2 }), {
    code: 'SESSION_UNREADABLE',
    message: /SESSION_ENCRYPTION_KEY does not match/,
  })
  await t.rejects(startWith({ SESSION_PATH: sessionPath }), { code: 'SESSION_UNREADABLE', message: /encrypted but SESSION_ENCRYPTION_KEY is not set/ })
  t.equal(await folderHash(sessionPath), before, 'the session files are byte for byte unchanged')
  const app = await startWith({ SESSION_PATH: sessionPath, SESSION_ENCRYPTION_KEY: KEY_1 })
  t.teardown(() => app.close())
  // The default session starts in the background, after the server is up.
  await waitFor(() => app.sessions.get('default').storeHealth() !== null, 10_000)
  t.equal(app.sessions.get('default').storeHealth()?.encryption, true, 'the right key opens it')
})

t.test('Postgres mode with the lease on: refused before waiting for the lease', async (t) => {
  const { url, sql } = await createMigratedDatabase(t, 'wa_wrong_key')
  const sessionPath = await tempDir(t)
  await storeSession(sessionPath, url)
  const rowBefore = await sql`SELECT c.creds, v.version_seq FROM whatsapp_session_creds c JOIN whatsapp_session_versions v USING (client_id) WHERE c.client_id = 'default'`
  const keysBefore = await sql`SELECT type, key_id, value FROM whatsapp_session_keys ORDER BY type, key_id`
  await t.rejects(startWith({ DATABASE_URL: url, SESSION_PATH: sessionPath, SESSION_ENCRYPTION_KEY: KEY_2 }), {
    code: 'SESSION_UNREADABLE',
    message: /SESSION_ENCRYPTION_KEY does not match/,
  })
  t.same(await sql`SELECT c.creds, v.version_seq FROM whatsapp_session_creds c JOIN whatsapp_session_versions v USING (client_id) WHERE c.client_id = 'default'`, rowBefore, 'the session row is unchanged')
  t.same(await sql`SELECT type, key_id, value FROM whatsapp_session_keys ORDER BY type, key_id`, keysBefore, 'and its keys')
  t.same(await sql`SELECT client_id FROM whatsapp_session_leases`, [], 'no lease was taken')
})

t.test('POST /api/whatsapp/sessions with the lease on: 409 SESSION_UNREADABLE, not a standby that fails later', async (t) => {
  const { url } = await createMigratedDatabase(t, 'wa_wrong_key_api')
  const app = await startWith({ DATABASE_URL: url, SESSION_PATH: await tempDir(t), SESSION_ENCRYPTION_KEY: KEY_2, CLIENT_ID: 'fresh' })
  t.teardown(() => app.close())
  // Stored with another key after this server started (at start-up the key check would refuse to listen).
  await storeSession(await tempDir(t), url, 'other')
  const res = await app.inject({ method: 'POST', url: '/api/whatsapp/sessions', payload: { clientId: 'other' } })
  t.equal(res.statusCode, 409)
  t.match(res.json(), { error: { code: 'SESSION_UNREADABLE', details: { cause: 'WRONG_ENCRYPTION_KEY', reason: /does not match/ } } })
  t.notOk(app.sessions.isRunning('other'), 'the session is not running')
})

// With SESSION_ENCRYPTION_KEY set, stored key ids are keyed hashes: the database's key_id column and
// the mirror files name no contact (phone numbers, LIDs), reads by Baileys' ids stay exact, and
// sessions stored with clear ids are converted when they open.
import t, { type Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { initAuthCreds, type SignalDataTypeMap } from '@whiskeysockets/baileys'
import { createCodec } from '../../src/keystore/codec.js'
import { createSessionFolder } from '../../src/keystore/file/index.js'
import { createSessionStore, type AuthStateHandle } from '../../src/keystore/index.js'
import { createSessionDatabase } from '../../src/keystore/postgres/index.js'
import { migratedDatabase } from '../helpers/db.js'
import { encodeBatch } from './fixtures/backends.js'
import { canon } from './fixtures/values.js'
import { tempFolder } from './fixtures/tmp.js'

const KEY = randomBytes(32).toString('base64')
const PN = '15550002222'
const LID = '200000000000002'
/** What Baileys writes about one contact: every id names them. */
const contactKeys = () => ({
  'lid-mapping': { [PN]: LID, [`${LID}_reverse`]: PN },
  'device-list': { [PN]: ['0', '3'] },
  session: { [`${LID}_1.0`]: randomBytes(900), [`${PN}.0`]: randomBytes(700) },
  'identity-key': { [`${LID}_1.0`]: randomBytes(33) },
  tctoken: { [`${LID}@lid`]: { token: randomBytes(24), timestamp: '1717000000' } },
  'sender-key': { [`120363000000000000@g.us::${LID}::0`]: randomBytes(300) },
})

async function folderText(dir: string): Promise<string> {
  return (await Promise.all((await readdir(dir)).map((n) => readFile(join(dir, n), 'utf8')))).join('\n')
}

async function readsExact(t: Test, h: AuthStateHandle, keys: Record<string, Record<string, unknown>>) {
  for (const [type, ids] of Object.entries(keys)) {
    const got = await h.state.keys.get(type as keyof SignalDataTypeMap, Object.keys(ids))
    t.equal(canon(got), canon(ids), `${type} read back by Baileys' ids`)
  }
}

t.test('Postgres mode, encrypted: key_id and the mirror name no contact; reads exact, from the database alone too', async (t) => {
  const { url, sql } = await migratedDatabase(t)
  const { sessions } = await tempFolder(t)
  const keys = contactKeys()
  const store = await createSessionStore({ sessionPath: sessions, databaseUrl: url, encryptionKey: KEY })
  const h = await store.open('acct')
  await h.saveCreds()
  await h.state.keys.set(keys)
  await readsExact(t, h, keys)
  await store.close()

  const ids = (await sql<{ key_id: string }[]>`SELECT key_id FROM whatsapp_session_keys WHERE client_id = 'acct'`).map((r) => r.key_id)
  t.equal(ids.length, 8)
  for (const id of ids) t.notMatch(id, new RegExp(`${PN}|${LID}|@`), 'a key_id names no contact')
  const [{ key_ids }] = await sql<{ key_ids: string }[]>`SELECT key_ids FROM whatsapp_sessions WHERE client_id = 'acct'`
  t.equal(key_ids, 'hmac-sha256/v1')
  const onDisk = await folderText(sessions)
  t.notOk(onDisk.includes(PN), 'the mirror holds no contact phone number')
  t.notOk(onDisk.includes(LID), 'nor a contact LID')

  await rm(sessions, { recursive: true, force: true })
  const again = await createSessionStore({ sessionPath: sessions, databaseUrl: url, encryptionKey: KEY })
  t.teardown(() => again.close())
  await readsExact(t, await again.open('acct'), keys)
  t.same(await (await again.open('other')).keyCounts(), {}, 'a new session starts empty')
})

t.test('Postgres mode: a session stored with clear ids is converted at open', async (t) => {
  const { url, sql } = await migratedDatabase(t)
  const { sessions } = await tempFolder(t)
  const keys = contactKeys()
  const codec = createCodec({ encryptionKey: KEY })
  // As an earlier version stored it: encrypted values, clear ids.
  const legacy = createSessionDatabase({ sql, keyCheck: codec.keyCheck, keyIds: 'clear' })
  await legacy.session('old').write(encodeBatch(codec, { creds: initAuthCreds(), keys, version: { epoch: 0, seq: 1 } }), { create: true })
  t.ok((await sql`SELECT 1 FROM whatsapp_session_keys WHERE key_id = ${PN}`).length > 0, 'the legacy row names the contact')

  const store = await createSessionStore({ sessionPath: sessions, databaseUrl: url, encryptionKey: KEY })
  t.teardown(() => store.close())
  const h = await store.open('old')
  await readsExact(t, h, keys)
  const ids = (await sql<{ key_id: string }[]>`SELECT key_id FROM whatsapp_session_keys WHERE client_id = 'old'`).map((r) => r.key_id)
  t.equal(ids.length, 8, 'every key kept')
  for (const id of ids) t.notMatch(id, new RegExp(`${PN}|${LID}|@`), 'converted')
  await h.state.keys.set({ session: { [`${LID}_1.0`]: null } })
  t.equal((await sql`SELECT 1 FROM whatsapp_session_keys WHERE client_id = 'old' AND type = 'session'`).length, 1, 'a delete by Baileys id finds the hashed row')
})

t.test('file mode: a session file with clear ids is converted at open; new writes store hashes', async (t) => {
  const { sessions } = await tempFolder(t)
  const keys = contactKeys()
  const codec = createCodec({ encryptionKey: KEY })
  const file = createSessionFolder({ sessionPath: sessions, codec }).session('old')
  const batch = encodeBatch(codec, { creds: initAuthCreds(), keys, version: { epoch: 0, seq: 1 } })
  const clear = new Map<string, Map<string, string>>()
  for (const [type, id, value] of batch.keys ?? []) {
    if (!clear.has(type)) clear.set(type, new Map())
    clear.get(type)?.set(id, value as string)
  }
  const now = new Date().toISOString()
  await file.replace({ clientId: 'old', status: 'active', jid: null, version: { epoch: 0, seq: 1 }, createdAt: now, updatedAt: now, creds: batch.creds ?? null, keys: clear, keyIds: 'clear', database: null })
  await file.close({ compact: false })
  t.ok((await folderText(sessions)).includes(PN), 'the legacy file names the contact')

  const store = await createSessionStore({ sessionPath: sessions, encryptionKey: KEY })
  t.teardown(() => store.close())
  const h = await store.open('old')
  await readsExact(t, h, keys)
  await h.state.keys.set({ 'device-list': { '15550003333': ['0'] } })
  await h.close()
  const onDisk = await folderText(sessions)
  t.notOk(onDisk.includes(PN) || onDisk.includes(LID) || onDisk.includes('15550003333'), 'no contact named on disk any more')
  await readsExact(t, await store.open('old'), { ...keys, 'device-list': { ...keys['device-list'], '15550003333': ['0'] } })
})

t.test('without encryption the ids stay as Baileys names them', async (t) => {
  const { url, sql } = await migratedDatabase(t)
  const { sessions } = await tempFolder(t)
  const store = await createSessionStore({ sessionPath: sessions, databaseUrl: url })
  t.teardown(() => store.close())
  const h = await store.open('plain')
  await h.state.keys.set({ 'device-list': { [PN]: ['0'] } })
  t.same((await sql`SELECT key_id FROM whatsapp_session_keys WHERE client_id = 'plain'`).map((r) => r.key_id), [PN])
})

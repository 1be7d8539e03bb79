// A set that changes nothing (deleting keys the session does not have: Baileys does it for devices and
// groups it never had a session with) writes nothing: no statement, no journal entry, no new version.
// It still settles only after the writes submitted before it.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { SignalDataSet } from '@whiskeysockets/baileys'
import { createSql } from '../../src/db/index.js'
import { createSessionStore } from '../../src/keystore/index.js'
import { migratedDatabase } from '../helpers/db.js'
import { tempFolder } from './fixtures/tmp.js'

const set = (data: Record<string, Record<string, unknown>>) => data as SignalDataSet

t.test('Postgres mode: deleting absent keys runs no statement and keeps the version', async (t) => {
  const { url, sql } = await migratedDatabase(t)
  const { sessions } = await tempFolder(t)
  let writes = 0
  const pool = createSql(url, { max: 2, debug: (_c, query) => { if (query.includes('whatsapp_session_versions')) writes++ } })
  t.teardown(() => pool.end({ timeout: 1 }))
  const store = await createSessionStore({ sessionPath: sessions, databaseUrl: url, sql: pool })
  t.teardown(() => store.close())
  const h = await store.open('one')
  await h.saveCreds()
  await h.state.keys.set(set({ session: { a: randomBytes(40), b: randomBytes(40) } }))
  const version = h.health().version
  const before = writes

  await h.state.keys.set(set({ session: { nope: null }, 'sender-key': { 'g@g.us::1::0': null } }))
  t.equal(writes, before, 'no statement')
  t.equal(h.health().version, version, 'the version did not move')
  const [row] = await sql<{ version_seq: string }[]>`SELECT version_seq FROM whatsapp_session_versions WHERE client_id = 'one'`
  t.equal(Number(row.version_seq), version, 'nor in the database')

  // A present key among absent ones: one write, and only the present key is deleted.
  await h.state.keys.set(set({ session: { a: null, nope: null } }))
  t.equal(writes, before + 1, 'one statement')
  t.equal(h.health().version, version + 1)
  const keys = await sql<{ key_id: string }[]>`SELECT key_id FROM whatsapp_session_keys WHERE client_id = 'one' AND type = 'session' ORDER BY key_id`
  t.same(keys.map((k) => k.key_id), ['b'])
})

t.test('a set that changes nothing settles after the writes submitted before it', async (t) => {
  const { url } = await migratedDatabase(t)
  const { sessions } = await tempFolder(t)
  const store = await createSessionStore({ sessionPath: sessions, databaseUrl: url })
  t.teardown(() => store.close())
  const h = await store.open('two')
  await h.saveCreds()
  const order: string[] = []
  const first = Promise.resolve(h.state.keys.set(set({ session: { a: randomBytes(40) } }))).then(() => order.push('write'))
  const second = Promise.resolve(h.state.keys.set(set({ session: { nope: null } }))).then(() => order.push('unchanged'))
  await Promise.all([first, second])
  t.same(order, ['write', 'unchanged'])
})

t.test('file mode: deleting absent keys appends nothing to the journal', async (t) => {
  const { sessions } = await tempFolder(t)
  const store = await createSessionStore({ sessionPath: sessions })
  t.teardown(() => store.close())
  const h = await store.open('three')
  await h.saveCreds()
  await h.state.keys.set(set({ session: { a: randomBytes(40) } }))
  const journal = join(sessions, 'three.journal')
  const lines = async () => (await readFile(journal, 'utf8')).split('\n').filter(Boolean).length
  const before = await lines()
  const version = h.health().version
  await h.state.keys.set(set({ session: { nope: null } }))
  t.equal(await lines(), before, 'no journal entry')
  t.equal(h.health().version, version)
  await h.state.keys.set(set({ session: { a: null } }))
  t.equal(await lines(), before + 1, 'a real delete is appended')
  t.same(await h.state.keys.get('session', ['a']), {})
})

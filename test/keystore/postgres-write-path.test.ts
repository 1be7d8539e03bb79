// Postgres mode's write path (modes/mirrored.ts): each batch is encoded once, and the database and the file mirror
// receive the same encoded text; the guarantees (commit before the acknowledgement) are tested in
// postgres.test.ts, fallback.test.ts and postgres-fencing.test.ts.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { SignalDataSet } from '@whiskeysockets/baileys'
import { createCodec } from '../../src/keystore/codec.js'
import { createSessionStore } from '../../src/keystore/index.js'
import { migratedDatabase } from '../helpers/db.js'
import { tempFolder } from './fixtures/tmp.js'

const KEY = randomBytes(32).toString('base64')

/** The mirror follows the database's acknowledgement without being awaited: wait for its entries. */
async function journalValues(path: string, entries: number): Promise<{ keys: Map<string, string | null>; creds: string[] }> {
  for (let i = 0; ; i++) {
    try {
      const text = await readFile(path, 'utf8')
      if (text.split('\n').filter(Boolean).length > entries) return await readJournal(path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
    if (i > 200) throw new Error('the mirror did not receive the writes')
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** type/id -> stored value of every journal entry, in order (the last one wins), and every creds text. */
async function readJournal(path: string): Promise<{ keys: Map<string, string | null>; creds: string[] }> {
  const keys = new Map<string, string | null>()
  const creds: string[] = []
  const lines = (await readFile(path, 'utf8')).split('\n').filter(Boolean).slice(1)
  for (const line of lines) {
    const entry = JSON.parse(line) as { c?: string; k?: Record<string, Record<string, string | null>> }
    if (entry.c !== undefined) creds.push(entry.c)
    for (const [type, ids] of Object.entries(entry.k ?? {})) for (const [id, v] of Object.entries(ids)) keys.set(`${type}/${id}`, v)
  }
  return { keys, creds }
}

t.test('encrypted: the database row and the mirror journal hold the same ciphertext (one encoding per batch)', async (t) => {
  const { url, sql } = await migratedDatabase(t)
  const { sessions } = await tempFolder(t)
  const store = await createSessionStore({ sessionPath: sessions, databaseUrl: url, encryptionKey: KEY })
  t.teardown(() => store.close())
  const h = await store.open('one')
  await h.saveCreds() // first write: the snapshot
  await h.state.keys.set({ session: { a: randomBytes(1500), b: new Uint8Array(randomBytes(600)) } } as SignalDataSet)
  await h.state.keys.set({ 'pre-key': { '1': { private: randomBytes(32), public: randomBytes(32) } }, session: { b: null } } as SignalDataSet)
  h.state.creds.me = { id: '15550001111:7@s.whatsapp.net', name: 'One' }
  await h.saveCreds()
  // Each value is encrypted with a fresh IV: equal text means it was encoded once, for both.
  const journal = await journalValues(join(sessions, 'one.journal'), 3)
  const rows = await sql<{ type: string; key_id: string; value: string }[]>`
    SELECT type, key_id, value FROM whatsapp_session_keys WHERE client_id = 'one'`
  t.equal(rows.length, 2)
  for (const r of rows) {
    t.match(r.value, /^enc:v1:/)
    t.equal(journal.keys.get(`${r.type}/${r.key_id}`), r.value, `${r.type}/${r.key_id}: same text in both`)
  }
  const storedB = createCodec({ encryptionKey: KEY }).keyId('session', 'b')
  t.equal(journal.keys.get(`session/${storedB}`), null, 'the delete is in the journal')
  const [{ creds }] = await sql<{ creds: string }[]>`SELECT creds FROM whatsapp_session_creds WHERE client_id = 'one'`
  t.equal(journal.creds.at(-1), creds, 'creds: same text in both')
})

t.test('plain: the same BufferJSON text in the database and in the mirror', async (t) => {
  const { url, sql } = await migratedDatabase(t)
  const { sessions } = await tempFolder(t)
  const store = await createSessionStore({ sessionPath: sessions, databaseUrl: url })
  t.teardown(() => store.close())
  const h = await store.open('two')
  await h.saveCreds()
  const bytes = randomBytes(700)
  await h.state.keys.set({ session: { a: bytes }, tctoken: { x: { token: randomBytes(24), timestamp: '1' } } } as SignalDataSet)
  const journal = await journalValues(join(sessions, 'two.journal'), 1)
  const rows = await sql<{ type: string; key_id: string; value: string }[]>`
    SELECT type, key_id, value FROM whatsapp_session_keys WHERE client_id = 'two'`
  t.equal(rows.length, 2)
  for (const r of rows) t.equal(JSON.stringify(journal.keys.get(`${r.type}/${r.key_id}`)), JSON.stringify(JSON.parse(r.value)))
  t.equal(rows.find((r) => r.type === 'session')?.value, `{"type":"Buffer","data":"${bytes.toString('base64')}"}`)
})

// The store in Postgres mode against a real database: round trips, query counts, concurrency, and a new
// process that sees everything acknowledged, from the database alone.
import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { BufferJSON, proto, type SignalDataSet } from '@whiskeysockets/baileys'
import { createSessionStore } from '../../src/keystore/index.js'
import { migratedDatabase, queryCounter } from '../helpers/db.js'
import { tempFolder } from './fixtures/tmp.js'
import { KEY_TYPES, canon, sampleKeys } from './fixtures/values.js'

const run = promisify(execFile)
const child = fileURLToPath(new URL('../db/store-child.ts', import.meta.url))

t.test('every key type round trips through Postgres; a new process reads it from the database alone', async (t) => {
  const { url, sql } = await migratedDatabase(t)
  const { sessions } = await tempFolder(t)
  const data = sampleKeys()
  const store = await createSessionStore({ sessionPath: sessions, databaseUrl: url })
  t.equal(store.mode, 'postgres')
  t.equal(await store.ping(), true)
  const h = await store.open('alice')
  h.state.creds.me = { id: '15550001111:7@s.whatsapp.net', name: 'Alice' }
  await h.saveCreds()
  await h.state.keys.set(data)
  await h.state.keys.set({ session: { '15550001111.7': null }, 'pre-key': { '1': null } })
  t.same(await h.state.keys.get('session', ['15550001111.7', 'nope']), {}, 'deleted and missing ids absent')
  const sync = await h.state.keys.get('app-state-sync-key', ['AAAAAGo7'])
  t.ok(sync.AAAAAGo7 instanceof proto.Message.AppStateSyncKeyData)
  t.match(h.health(), { mode: 'postgres', degraded: false, databaseReachable: true, pendingCatchUp: false })
  await store.close()

  const [{ n }] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM whatsapp_session_keys WHERE client_id = 'alice'`
  const total = Object.values(data).reduce((a, ids) => a + Object.keys(ids ?? {}).length, 0) - 2
  t.equal(n, total, 'every live key is a row')

  const asked = JSON.stringify(Object.fromEntries(KEY_TYPES.map((type) => [type, Object.keys(data[type] ?? {})])))
  const { stdout } = await run(process.execPath, ['--import', 'tsx', child, url, sessions, 'alice', asked, 'rm-mirror'])
  const dump = JSON.parse(stdout.trim().split('\n').pop() as string)
  t.equal(dump.me.id, '15550001111:7@s.whatsapp.net', 'creds from the database')
  const keys = JSON.parse(dump.keys, BufferJSON.reviver) as Record<string, Record<string, unknown>>
  for (const type of KEY_TYPES) {
    const want = { ...(data[type] as Record<string, unknown>) }
    if (type === 'session') delete want['15550001111.7']
    if (type === 'pre-key') delete want['1']
    t.equal(canon(keys[type] ?? {}), canon(want), `${type} byte-equal in a new process`)
  }
})

t.test('reads cost no query; a set with several types, upserts and deletes is one statement', async (t) => {
  const { url } = await migratedDatabase(t)
  const { sessions } = await tempFolder(t)
  const counter = queryCounter()
  const store = await createSessionStore({ sessionPath: sessions, databaseUrl: url, database: { debug: counter.debug } })
  t.teardown(() => store.close())
  const h = await store.open('bob')
  const preKeys: Record<string, { public: Buffer; private: Buffer }> = {}
  for (let i = 1; i <= 812; i++) preKeys[i] = { public: Buffer.alloc(32, i % 256), private: Buffer.alloc(32, 7) }
  counter.reset()
  await h.state.keys.set({ 'pre-key': preKeys })
  t.equal(counter.queries.length, 1, '812 pre-keys: one statement')

  counter.reset()
  const ids = Array.from({ length: 50 }, (_, i) => String(i + 1))
  const got = await h.state.keys.get('pre-key', [...ids, '9999'])
  t.equal(Object.keys(got).length, 50)
  t.equal(counter.queries.length, 0, 'get is served from memory')

  counter.reset()
  await h.state.keys.set({
    session: { 'a_1.0': Buffer.from('s1'), 'b_1.0': Buffer.from('s2') },
    'pre-key': { '1': null, '2': null },
    'lid-mapping': { '1555': '1000', '1000_reverse': '1555' },
  } as SignalDataSet)
  t.equal(counter.queries.length, 1, 'several types, upserts and deletes: one statement')
  t.match(counter.queries[0], /^WITH s AS \( UPDATE whatsapp_session_versions /)

  counter.reset()
  await Promise.all([
    h.state.keys.set({ session: { 'c_1.0': Buffer.from('c') } }),
    h.state.keys.set({ tctoken: { x: { token: Buffer.from('t'), timestamp: '1' } } }),
    h.state.keys.set({ 'device-list': { '1555': ['0', '1'] } }),
    h.saveCreds(),
  ])
  t.ok(counter.queries.length <= 2, `four concurrent calls group-committed into ${counter.queries.length} statement(s)`)
  t.match(await h.keyCounts(), { 'pre-key': 810, session: 3, tctoken: 1, 'device-list': 1, 'lid-mapping': 2 })
})

t.test('concurrent sets never corrupt', async (t) => {
  const { url, sql } = await migratedDatabase(t)
  const { sessions } = await tempFolder(t)
  const store = await createSessionStore({ sessionPath: sessions, databaseUrl: url })
  const h = await store.open('carol')
  const writes: unknown[] = []
  // What memory holds after the calls, in call order (each set applies to memory before it is written).
  const before = new Map<string, Map<string, unknown>>()
  const model = (type: string, id: string, value: Buffer | null) => {
    if (!before.has(type)) before.set(type, new Map())
    if (value) before.get(type)?.set(id, value)
    else before.get(type)?.delete(id)
  }
  for (let i = 0; i < 200; i++) {
    const type = ['session', 'tctoken', 'sender-key', 'identity-key'][i % 4]
    writes.push(h.state.keys.set({ [type]: { [`id${i % 37}`]: Buffer.from(`v${i}`) } } as SignalDataSet))
    model(type, `id${i % 37}`, Buffer.from(`v${i}`))
    if (i % 7 === 0) {
      writes.push(h.state.keys.set({ [type]: { [`id${(i + 3) % 37}`]: null } } as SignalDataSet))
      model(type, `id${(i + 3) % 37}`, null)
    }
  }
  await Promise.all(writes)
  t.same(await h.keyCounts(), Object.fromEntries([...before].map(([type, ids]) => [type, ids.size])), 'the model matches memory')
  await store.close()
  const rows = await sql<{ type: string; key_id: string; value: string }[]>`
    SELECT type, key_id, value FROM whatsapp_session_keys WHERE client_id = 'carol'`
  const inDb = new Map(rows.map((r) => [`${r.type}/${r.key_id}`, JSON.parse(r.value, BufferJSON.reviver)]))
  let expected = 0
  for (const [type, ids] of before) {
    for (const [id, value] of ids) {
      expected++
      t.equal(canon(inDb.get(`${type}/${id}`)), canon(value), `${type}/${id} matches memory`)
    }
  }
  t.equal(rows.length, expected, 'no extra rows')
  const again = await createSessionStore({ sessionPath: sessions, databaseUrl: url })
  t.teardown(() => again.close())
  const h2 = await again.open('carol')
  t.equal(h2.health().version, h.health().version, 'version carried through the database')
})

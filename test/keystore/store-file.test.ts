// The session store in file mode: memory-served reads, every key type round trip, concurrent sets.
import t from 'tap'
import { proto } from '@whiskeysockets/baileys'
import { createSessionStore } from '../../src/keystore/index.js'
import { tempFolder } from './fixtures/tmp.js'
import { KEY_TYPES, canon, sampleKeys } from './fixtures/values.js'

t.test('file mode: every key type round trips through a new store instance', async (t) => {
  const { sessions } = await tempFolder(t)
  const data = sampleKeys()
  const a = await createSessionStore({ sessionPath: sessions })
  t.equal(a.mode, 'file')
  t.equal(await a.ping(), null)
  const h = await a.open('alice')
  const meId = '15550001111:7@s.whatsapp.net'
  h.state.creds.me = { id: meId, name: 'Alice' }
  await h.saveCreds()
  await h.state.keys.set(data)
  await h.state.keys.set({ session: { '15550001111.7': null } })
  t.same(await h.state.keys.get('session', ['15550001111.7', 'missing']), {}, 'deleted and missing ids are absent')
  t.equal(h.health().mode, 'file')
  t.equal(h.health().degraded, false)
  await a.close()

  const b = await createSessionStore({ sessionPath: sessions })
  t.teardown(() => b.close())
  const h2 = await b.open('alice')
  t.equal(h2.state.creds.me?.id, meId)
  t.equal(canon(h2.state.creds.noiseKey), canon(h.state.creds.noiseKey), 'creds byte-equal')
  for (const type of KEY_TYPES) {
    const ids = Object.keys(data[type] ?? {})
    const got = await h2.state.keys.get(type as 'session', ids)
    const want = { ...(data[type] as Record<string, unknown>) }
    if (type === 'session') delete want['15550001111.7']
    t.equal(canon(got), canon(want), `${type} round trips`)
  }
  const sync = await h2.state.keys.get('app-state-sync-key', ['AAAAAGo7'])
  t.ok(sync.AAAAAGo7 instanceof proto.Message.AppStateSyncKeyData, 'app-state-sync-key revived as protobuf')
  t.match(await h2.keyCounts(), { 'pre-key': 2, session: 1, 'x-future-type': 1 })
  t.same((await b.list()).map((s) => [s.clientId, s.location]), [['alice', 'file']])
})

t.test('file mode: concurrent sets of different types all land, one write in flight', async (t) => {
  const { sessions } = await tempFolder(t)
  const store = await createSessionStore({ sessionPath: sessions })
  const h = await store.open('bob')
  const writes: Array<Promise<unknown> | unknown> = []
  for (let i = 0; i < 50; i++) {
    writes.push(h.state.keys.set({ session: { [`s${i}`]: Buffer.from([i]) } }))
    writes.push(h.state.keys.set({ tctoken: { [`t${i}`]: { token: Buffer.from([i, i]), timestamp: String(i) } } }))
    if (i % 5 === 0) writes.push(h.saveCreds())
  }
  await Promise.all(writes)
  const version = h.health().version
  t.ok(version >= 110, 'every call bumped the version')
  await store.close()
  const again = await createSessionStore({ sessionPath: sessions })
  t.teardown(() => again.close())
  const h2 = await again.open('bob')
  t.equal(h2.health().version, version, 'version survives')
  t.same(await h2.keyCounts(), { session: 50, tctoken: 50 })
  t.equal(canon((await h2.state.keys.get('session', ['s49'])).s49), canon(Buffer.from([49])))
})

t.test('file mode: setStatus, list, wipe, delete', async (t) => {
  const { sessions } = await tempFolder(t)
  const store = await createSessionStore({ sessionPath: sessions })
  t.teardown(() => store.close())
  const h = await store.open('carol')
  await h.setStatus('active', '1555@s.whatsapp.net')
  const [row] = await store.list()
  t.match(row, { clientId: 'carol', status: 'active', jid: '1555@s.whatsapp.net', location: 'file' })
  await h.wipe()
  await t.rejects(h.saveCreds(), { code: 'SESSION_HANDLE_CLOSED' })
  await h.close()
  t.same(await store.list(), [])
  const h2 = await store.open('dave')
  await h2.saveCreds()
  await t.rejects(store.open('dave'), { code: 'SESSION_ALREADY_OPEN' })
  t.equal(await store.delete('dave'), true)
  t.equal(await store.delete('dave'), false)
})

// Postgres mode losing its database (a TCP proxy cut, never the shared server): writes stay durable in
// the mirror, the store reports degraded, and the newer local state lands in the database on return.
import t from 'tap'
import { readFile, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { createSessionStore, type AuthStateHandle } from '../../src/keystore/index.js'
import { migratedDatabase } from '../helpers/db.js'
import { createTcpProxy } from '../helpers/tcp-proxy.js'
import { waitFor } from '../helpers/poll.js'
import { tempFolder } from './fixtures/tmp.js'

const probe = { baseMs: 100, maxMs: 400, timeoutMs: 3000 }

async function keyIds(sql: import('../../src/db/index.js').Sql, clientId: string, type: string): Promise<string[]> {
  const rows = await sql<{ key_id: string }[]>`
    SELECT key_id FROM whatsapp_session_keys WHERE client_id = ${clientId} AND type = ${type} ORDER BY key_id`
  return rows.map((r) => r.key_id)
}

async function proxyFor(t: { teardown(fn: () => unknown): void }, url: string) {
  const u = new URL(url)
  const proxy = await createTcpProxy({ target: { host: u.hostname, port: Number(u.port || 5432) } })
  t.teardown(() => proxy.close())
  return proxy
}

t.test('database lost mid-run: acknowledged writes are durable locally, caught up on return', async (t) => {
  const { url, sql } = await migratedDatabase(t)
  const { sessions } = await tempFolder(t)
  const proxy = await proxyFor(t, url)
  const store = await createSessionStore({ sessionPath: sessions, databaseUrl: proxy.url(url), database: { probe, connectTimeout: 2 } })
  const h = await store.open('alice')
  await h.state.keys.set({ session: { before: Buffer.from('b') } })
  t.same(await keyIds(sql, 'alice', 'session'), ['before'])

  proxy.cut()
  await h.state.keys.set({ session: { during1: Buffer.from('d1') } })
  await h.state.keys.set({ session: { before: null, during2: Buffer.from('d2') }, tctoken: { tc: { token: Buffer.from('x'), timestamp: '1' } } })
  t.match(h.health(), { degraded: true, databaseReachable: false, pendingCatchUp: true }, 'degraded while cut')
  t.same(await keyIds(sql, 'alice', 'session'), ['before'], 'the database did not get them')
  const onDisk = (await Promise.all((await readdir(sessions)).map((f) => readFile(join(sessions, f), 'utf8')))).join('\n')
  t.match(onDisk, /during2/, 'the outage writes are in the mirror files')
  t.equal(await store.ping(), false)

  proxy.restore()
  t.ok(await waitFor(() => !h.health().degraded), 'degraded clears once the database answers')
  t.match(h.health(), { degraded: false, databaseReachable: true, pendingCatchUp: false })
  t.same(await keyIds(sql, 'alice', 'session'), ['during1', 'during2'], 'catch-up landed, delete included')
  t.same(await keyIds(sql, 'alice', 'tctoken'), ['tc'])
  await h.state.keys.set({ session: { after: Buffer.from('a') } })
  t.same(await keyIds(sql, 'alice', 'session'), ['after', 'during1', 'during2'], 'writes go to the database again')
  await store.close()

  await rm(sessions, { recursive: true, force: true })
  const fresh = await createSessionStore({ sessionPath: sessions, databaseUrl: url })
  t.teardown(() => fresh.close())
  const h2 = await fresh.open('alice')
  t.same(Object.keys(await h2.state.keys.get('session', ['before', 'during1', 'during2', 'after'])).sort(), ['after', 'during1', 'during2'])
  t.equal(h2.health().version, h.health().version, 'same version from the database alone')
})

t.test('database unreachable at start-up: open from the mirror, degraded, caught up later', async (t) => {
  const { url, sql } = await migratedDatabase(t)
  const { sessions } = await tempFolder(t)
  const first = await createSessionStore({ sessionPath: sessions, databaseUrl: url })
  const h0 = await first.open('bob')
  await h0.state.keys.set({ 'pre-key': { '1': { public: Buffer.from([1]), private: Buffer.from([2]) } } })
  await first.close()

  const proxy = await proxyFor(t, url)
  proxy.cut()
  const store = await createSessionStore({ sessionPath: sessions, databaseUrl: proxy.url(url), database: { probe, connectTimeout: 1 } })
  t.teardown(() => store.close())
  await t.rejects(store.open('nobody'), { code: 'SESSION_STORE_UNAVAILABLE' }, 'no mirror, no database: refuse')
  const h = await store.open('bob')
  t.match(h.health(), { degraded: true, pendingCatchUp: true })
  t.equal(Object.keys(await h.state.keys.get('pre-key', ['1'])).length, 1, 'served from the mirror')
  await h.state.keys.set({ 'pre-key': { '2': { public: Buffer.from([3]), private: Buffer.from([4]) } } })
  t.same((await store.list()).map((s) => [s.clientId, s.location]), [['bob', 'file']], 'listing falls back to the mirror')
  proxy.restore()
  t.ok(await waitFor(() => !h.health().degraded))
  t.same(await keyIds(sql, 'bob', 'pre-key'), ['1', '2'])
})

t.test('automatic migration: file -> database, database -> mirror, and newer wins on open', async (t) => {
  const { url, sql } = await migratedDatabase(t)
  const a = await tempFolder(t)
  const b = await tempFolder(t)

  // Only in the file: copied up.
  const fileStore = await createSessionStore({ sessionPath: a.sessions })
  const fh = await fileStore.open('carol')
  await fh.setStatus('active', '1555@s.whatsapp.net')
  await fh.state.keys.set({ session: { s1: Buffer.from('1') } })
  await fileStore.close()
  const pgA = await createSessionStore({ sessionPath: a.sessions, databaseUrl: url })
  const ha = await pgA.open('carol')
  t.same(await keyIds(sql, 'carol', 'session'), ['s1'], 'file -> database')
  const [row] = await sql`SELECT s.status, s.jid, v.version_seq FROM whatsapp_sessions s JOIN whatsapp_session_versions v USING (client_id) WHERE s.client_id = 'carol'`
  t.match(row, { status: 'active', jid: '1555@s.whatsapp.net' })
  t.equal(Number(row.version_seq), 2)
  await ha.close()
  await pgA.close()

  // Only in the database: the mirror is written.
  const pgB = await createSessionStore({ sessionPath: b.sessions, databaseUrl: url })
  const hb = await pgB.open('carol')
  await hb.state.keys.set({ session: { s2: Buffer.from('2') } })
  await pgB.close()
  const fileB = await createSessionStore({ sessionPath: b.sessions })
  const hbf = await fileB.open('carol')
  t.same(Object.keys(await hbf.state.keys.get('session', ['s1', 's2'])).sort(), ['s1', 's2'], 'database -> mirror')
  await fileB.close()

  // Database newer than mirror A (B wrote s2): A's mirror is brought level.
  const pgA2 = await createSessionStore({ sessionPath: a.sessions, databaseUrl: url })
  const ha2 = await pgA2.open('carol')
  t.same(Object.keys(await ha2.state.keys.get('session', ['s1', 's2'])).sort(), ['s1', 's2'], 'database newer wins')
  await pgA2.close()
  const fileA = await createSessionStore({ sessionPath: a.sessions })
  const haf = await fileA.open('carol')
  t.equal(Object.keys(await haf.state.keys.get('session', ['s2'])).length, 1, 'mirror A brought level')
  // Mirror newer than the database: write to A's file alone, then open in Postgres mode.
  await haf.state.keys.set({ session: { s3: Buffer.from('3') } })
  await fileA.close()
  const pgA3 = await createSessionStore({ sessionPath: a.sessions, databaseUrl: url })
  t.teardown(() => pgA3.close())
  const ha3: AuthStateHandle = await pgA3.open('carol')
  t.same(await keyIds(sql, 'carol', 'session'), ['s1', 's2', 's3'], 'mirror newer: database brought level')
  t.equal(ha3.health().degraded, false)
})

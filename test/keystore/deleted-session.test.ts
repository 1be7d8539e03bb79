// A deleted session stays deleted: a mirror file of a session the database deleted (on another
// instance) is never copied up and is an orphan for cleanup; versions keep counting after a delete so a
// stale copy never wins against the recreated session; files that never reached a database still move
// up; and a delete while the database is cut changes nothing.
import t from 'tap'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { toErrorBody } from '../../src/errors.js'
import { createSessionStore, StoreUnavailableError, type SessionStore } from '../../src/keystore/index.js'
import { cleanupLocalFiles } from '../../src/whatsapp/cleanup.js'
import { migratedDatabase } from '../helpers/db.js'
import { createTcpProxy } from '../helpers/tcp-proxy.js'
import { tempFolder } from './fixtures/tmp.js'

async function linked(store: SessionStore, clientId: string, writes = 3) {
  const h = await store.open(clientId)
  h.state.creds.me = { id: '15550001111:7@s.whatsapp.net', name: 'A' }
  await h.saveCreds()
  await h.setStatus('active', '15550001111:7@s.whatsapp.net')
  for (let i = 0; i < writes; i++) await h.state.keys.set({ session: { [`s${i}`]: Buffer.from(`v${i}`) } })
  const version = h.health().version
  await h.close()
  return version
}

const rowOf = async (sql: Awaited<ReturnType<typeof migratedDatabase>>['sql'], clientId: string) =>
  (await sql`SELECT version_seq FROM whatsapp_session_versions WHERE client_id = ${clientId}`)[0] ?? null

t.test('deleted on instance B: instance A never copies its old mirror up, and cleanup removes mirror-only files', async (t) => {
  const { url, sql } = await migratedDatabase(t)
  const a = await tempFolder(t)
  const b = await tempFolder(t)
  const storeA = await createSessionStore({ sessionPath: a.sessions, databaseUrl: url })
  await linked(storeA, 'default')
  await linked(storeA, 'ghost')
  await storeA.close()

  const storeB = await createSessionStore({ sessionPath: b.sessions, databaseUrl: url })
  t.teardown(() => storeB.close())
  t.equal(await storeB.delete('default'), true)
  t.equal(await storeB.delete('ghost'), true)

  const logs: Array<{ msg: string }> = []
  const logger = { info: (_o: unknown, msg: string) => logs.push({ msg }), warn: (_o: unknown, msg: string) => logs.push({ msg }), debug() {}, error() {}, child() { return logger } }
  const again = await createSessionStore({ sessionPath: a.sessions, databaseUrl: url, logger: logger as never })
  t.teardown(() => again.close())
  t.same((await again.list()).map((s) => s.clientId), [], 'neither deleted session is listed (so neither is resumed)')
  const h = await again.open('default')
  t.equal(h.state.creds.me, undefined, 'the session starts fresh (a new QR), not from the deleted one')
  t.equal(await rowOf(sql, 'default'), null, 'nothing was copied up to the database')
  t.notOk(logs.some((l) => /session copied up/.test(l.msg)), 'no copy-up was logged')
  t.ok(logs.some((l) => /no longer has this session/.test(l.msg)), 'the removal of the stale mirror is logged')
  t.notOk((await readdir(a.sessions)).includes('default.json'), 'the stale mirror is gone')

  const result = await cleanupLocalFiles({ sessionPath: a.sessions, store: again, isRunning: (id) => id === 'default' })
  t.same(result.removed.map((r) => [r.file, r.reason]).sort(), [['ghost.journal', 'orphan'], ['ghost.json', 'orphan']], 'the mirror-only ghost is an orphan')
  t.notOk((await readdir(a.sessions)).includes('ghost.json'))
})

t.test('a file that never reached a database is still copied up (file mode first, or an outage at birth)', async (t) => {
  const { url, sql } = await migratedDatabase(t)
  const { sessions } = await tempFolder(t)
  const fileStore = await createSessionStore({ sessionPath: sessions })
  const version = await linked(fileStore, 'moved')
  await fileStore.close()

  const u = new URL(url)
  const proxy = await createTcpProxy({ target: { host: u.hostname, port: Number(u.port || 5432) } })
  t.teardown(() => proxy.close())
  const cutStore = await createSessionStore({ sessionPath: sessions, databaseUrl: proxy.url(url), database: { connectTimeout: 1, probe: { timeoutMs: 2000, baseMs: 60_000 } } })
  const born = await cutStore.open('born')
  proxy.cut()
  await born.saveCreds() // the database fails: the mirror alone carries the new session
  t.equal(born.health().degraded, true)
  await cutStore.close()

  const store = await createSessionStore({ sessionPath: sessions, databaseUrl: url })
  t.teardown(() => store.close())
  t.same((await store.list()).map((s) => s.clientId), ['born', 'moved'], 'both are listed: opening them copies them up')
  await (await store.open('moved')).close()
  await (await store.open('born')).close()
  t.equal(Number((await rowOf(sql, 'moved'))?.version_seq), version, 'the file-mode session reached the database')
  t.ok(await rowOf(sql, 'born'), 'the session born during the outage reached the database')
})

t.test('versions keep counting after a delete: a stale mirror never wins against the recreated session', async (t) => {
  const { url, sql } = await migratedDatabase(t)
  const a = await tempFolder(t)
  const b = await tempFolder(t)
  const storeA = await createSessionStore({ sessionPath: a.sessions, databaseUrl: url })
  const stale = await linked(storeA, 'default', 8)
  await storeA.close()
  // Strip the mirror's record of the database it came from, as a mirror written before it existed.
  const mirror = join(a.sessions, 'default.json')
  const doc = JSON.parse(await readFile(mirror, 'utf8'))
  t.match(doc.database, /^[0-9a-f-]+\/[0-9a-f-]+$/, 'a mirror records the database and the life of the row it copies')
  await writeFile(mirror, JSON.stringify({ ...doc, database: null }))

  const storeB = await createSessionStore({ sessionPath: b.sessions, databaseUrl: url })
  t.teardown(() => storeB.close())
  await storeB.delete('default')
  const recreated = await storeB.open('default')
  await recreated.saveCreds()
  t.ok(recreated.health().version > stale, `the recreated session counts on (${recreated.health().version} > ${stale})`)
  await recreated.state.keys.set({ session: { fresh: Buffer.from('new') } })
  await recreated.close()

  const again = await createSessionStore({ sessionPath: a.sessions, databaseUrl: url })
  t.teardown(() => again.close())
  const h = await again.open('default')
  t.same(Object.keys(await h.state.keys.get('session', ['s0', 'fresh'])), ['fresh'], 'the recreated session, not the stale mirror')
  t.equal(h.state.creds.me, undefined)
  t.equal(Number((await rowOf(sql, 'default'))?.version_seq), h.health().version)
})

t.test('delete while the database is cut: a typed 503, nothing changed, the session still there after', async (t) => {
  const { url, sql } = await migratedDatabase(t)
  const { sessions } = await tempFolder(t)
  const u = new URL(url)
  const proxy = await createTcpProxy({ target: { host: u.hostname, port: Number(u.port || 5432) } })
  t.teardown(() => proxy.close())
  const store = await createSessionStore({ sessionPath: sessions, databaseUrl: proxy.url(url), database: { connectTimeout: 1, probe: { timeoutMs: 2000, baseMs: 60_000 } } })
  t.teardown(() => store.close())
  await linked(store, 'keep')
  const open = await store.open('open')
  await open.saveCreds()
  // The mirror follows the database's acknowledgement without being waited for: let it land.
  const settled = async () => {
    for (let i = 0; i < 200; i++) {
      const names = await readdir(sessions)
      if (names.includes('open.json') && !names.some((n) => n.includes('.tmp-'))) return names.sort()
      await new Promise((r) => setTimeout(r, 10))
    }
    throw new Error('the mirror did not settle')
  }
  const before = await settled()

  proxy.cut()
  const err = await store.delete('keep').catch((e: unknown) => e)
  t.type(err, StoreUnavailableError)
  t.equal((err as StoreUnavailableError).code, 'STORE_UNAVAILABLE')
  t.match(toErrorBody(err, 'r1'), { status: 503, body: { error: { code: 'STORE_UNAVAILABLE' } } }, 'the API answers 503 STORE_UNAVAILABLE')
  await t.rejects(store.delete('open'), { code: 'STORE_UNAVAILABLE' }, 'an open session too')
  await t.rejects(open.wipe(), { code: 'STORE_UNAVAILABLE' }, 'and the logged-out wipe')
  t.same((await readdir(sessions)).sort(), before, 'no file was removed')
  t.equal(open.health().mode, 'postgres', 'the open handle is still usable')

  proxy.restore()
  t.ok(await rowOf(sql, 'keep'), 'the database row is still there')
  t.ok(await rowOf(sql, 'open'))
  t.equal(await store.delete('keep'), true, 'once the database answers, the delete goes through')
  t.equal(await rowOf(sql, 'keep'), null)
  t.notOk((await readdir(sessions)).includes('keep.json'))
})

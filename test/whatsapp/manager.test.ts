// The session manager through the API, without WhatsApp (WA_WS_URL at a closed port): the MAX_SESSIONS
// cap, a DELETE during a database cut that changes nothing, and lease holders and rows that go with the
// sessions they belong to.
import t from 'tap'
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import pino from 'pino'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { createSessionStore } from '../../src/keystore/index.js'
import { closedPort, tempDir, testApp, waitFor } from '../app/helpers.js'
import { ADMIN_URL, createMigratedDatabase } from '../helpers/db.js'
import { createTcpProxy } from '../helpers/tcp-proxy.js'

const exists = (path: string) => access(path).then(() => true, () => false)

async function storeActive(sessionPath: string, databaseUrl: string | undefined, clientId: string): Promise<void> {
  const store = await createSessionStore({ sessionPath, databaseUrl })
  const handle = await store.open(clientId)
  await handle.saveCreds()
  await handle.setStatus('active', `1555000${clientId.length}:7@s.whatsapp.net`)
  await handle.close()
  await store.close()
}

t.test('MAX_SESSIONS: POST /sessions answers 503 SESSION_LIMIT_REACHED beyond it; a delete makes room', async (t) => {
  const app = await testApp(t, { MAX_SESSIONS: '2' })
  t.equal((await app.inject({ method: 'POST', url: '/api/whatsapp/sessions', payload: { clientId: 'second' } })).statusCode, 201)
  const full = await app.inject({ method: 'POST', url: '/api/whatsapp/sessions', payload: { clientId: 'third' } })
  t.equal(full.statusCode, 503)
  t.match(full.json(), { error: { code: 'SESSION_LIMIT_REACHED', message: /MAX_SESSIONS/, details: { maxSessions: 2, reason: /2 sessions/ } } })
  t.notOk(app.sessions.isRunning('third'), 'nothing started')
  t.equal((await app.inject({ method: 'DELETE', url: '/api/whatsapp/sessions/second' })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/api/whatsapp/sessions', payload: { clientId: 'third' } })).statusCode, 201)
})

t.test('MAX_SESSIONS at boot: stored sessions past the limit are not resumed and are named', async (t) => {
  const sessionPath = await tempDir(t)
  for (const id of ['a', 'b', 'c']) await storeActive(sessionPath, undefined, id)
  const app = await testApp(t, { SESSION_PATH: sessionPath, MAX_SESSIONS: '2' })
  t.ok(await waitFor(() => app.sessions.resumeProgress().status === 'done', 10_000), 'resume finished')
  t.same(app.sessions.list().map((s) => s.clientId).sort(), ['a', 'default'])
  const { failed, total, done } = app.sessions.resumeProgress()
  t.same({ total, done }, { total: 4, done: 4 })
  t.match(failed, [{ clientId: 'b', code: 'SESSION_LIMIT_REACHED' }, { clientId: 'c', code: 'SESSION_LIMIT_REACHED' }])
  const ready = (await app.inject('/ready')).json()
  t.match(ready.resume, { status: 'done', failed: [{ clientId: 'b' }, { clientId: 'c' }] })
})

t.test('DELETE /sessions/x during a database cut (lease off): 503 STORE_UNAVAILABLE and nothing changed', async (t) => {
  const { url, sql } = await createMigratedDatabase(t, 'wa_delete_cut')
  const admin = new URL(ADMIN_URL)
  const proxy = await createTcpProxy({ target: { host: admin.hostname, port: Number(admin.port || 5432) } })
  t.teardown(() => proxy.close())
  const sessionPath = await tempDir(t)
  await storeActive(sessionPath, url, 'x')
  const app = await buildApp({
    config: loadConfig({
      NODE_ENV: 'test', DATABASE_URL: proxy.url(url), SESSION_PATH: sessionPath, SESSION_LEASE: 'off', CLEANUP_INTERVAL_MS: '0',
      WA_WS_URL: `ws://127.0.0.1:${await closedPort()}`, RECONNECT_BASE_MS: '200', RECONNECT_MAX_MS: '2000',
    }),
    logger: pino({ level: 'silent' }),
  })
  t.teardown(() => app.close())
  t.ok(await waitFor(() => app.sessions.find('x')?.storeHealth() != null, 10_000), 'x resumed')

  proxy.cut()
  const res = await app.inject({ method: 'DELETE', url: '/api/whatsapp/sessions/x' })
  t.equal(res.statusCode, 503)
  t.match(res.json(), { error: { code: 'STORE_UNAVAILABLE', details: { reason: /nothing was deleted/ } } })
  t.ok(app.sessions.isRunning('x'), 'the session still runs')
  t.not(app.sessions.find('x')?.state, 'stopped')
  t.ok(await exists(join(sessionPath, 'x.json')), 'its mirror file is still there')
  t.same(await sql`SELECT client_id, status FROM whatsapp_sessions WHERE client_id = 'x'`, [{ client_id: 'x', status: 'active' }], 'and its row')

  proxy.restore()
  const again = await app.inject({ method: 'DELETE', url: '/api/whatsapp/sessions/x' })
  t.equal(again.statusCode, 200, 'once the database is back the delete goes through')
  t.same(await sql`SELECT client_id FROM whatsapp_sessions WHERE client_id = 'x'`, [])
})

t.test('lease holders and lease rows go with deleted sessions', async (t) => {
  const { url, sql } = await createMigratedDatabase(t, 'wa_lease_prune')
  const app = await buildApp({
    config: loadConfig({
      NODE_ENV: 'test', DATABASE_URL: url, SESSION_PATH: await tempDir(t), CLEANUP_INTERVAL_MS: '0',
      WA_WS_URL: `ws://127.0.0.1:${await closedPort()}`, RECONNECT_BASE_MS: '200', RECONNECT_MAX_MS: '2000',
    }),
    logger: pino({ level: 'silent' }),
  })
  t.teardown(() => app.close())
  const lease = app.lease.manager
  if (!lease) throw new Error('the lease is on in Postgres mode')
  for (let i = 0; i < 5; i++) {
    t.equal((await app.inject({ method: 'POST', url: '/api/whatsapp/sessions', payload: { clientId: `tmp-${i}` } })).statusCode, 201)
  }
  t.ok(await waitFor(() => lease.holders() === 6, 5000), 'one holder per session (the default one too)')
  const rows = async () => (await sql<{ client_id: string }[]>`SELECT client_id FROM whatsapp_session_leases ORDER BY client_id`).map((r) => r.client_id)
  t.same(await rows(), ['default', 'tmp-0', 'tmp-1', 'tmp-2', 'tmp-3', 'tmp-4'])
  for (let i = 0; i < 5; i++) t.equal((await app.inject({ method: 'DELETE', url: `/api/whatsapp/sessions/tmp-${i}` })).statusCode, 200)
  t.equal(lease.holders(), 1, 'the deleted sessions\' holders are dropped')
  t.same(await rows(), ['default'], 'and their lease rows deleted')
})

for (const mode of ['file', 'postgres'] as const) {
  const what = mode === 'file' ? 'a restart' : 'a takeover of many leases at once'
  t.test(`${mode} mode, ${what}: at most RESUME_CONCURRENCY sessions open their store and connect at once`, async (t) => {
    const sessionPath = await tempDir(t)
    const db = mode === 'postgres' ? await createMigratedDatabase(t, 'wa_admission') : undefined
    const url = db?.url
    const ids = ['a', 'b', 'c', 'd', 'e', 'f']
    for (const id of ids) await storeActive(sessionPath, url, id)
    // Postgres: another instance held every lease and stopped, and they have all expired: this instance
    // takes every one over as soon as its sessions ask. (Leases still live would be retried when each
    // expires, at times set by how fast each earlier answer came back: the machine's speed, not the
    // resume order, would then decide which session opens first.)
    if (db) {
      for (const id of ids) {
        await db.sql`INSERT INTO whatsapp_session_leases (client_id, owner, fencing_token, expires_at)
                     VALUES (${id}, 'stopped-instance:1:abcd', 1, now() - interval '1 second')`
      }
    }
    // Every store open waits until the test lets it through: what is in flight is what was admitted.
    const inFlight: Array<{ clientId: string; go: () => void }> = []
    let opened = 0
    let maxInFlight = 0
    const app = await buildApp({
      config: loadConfig({
        NODE_ENV: 'test', SESSION_PATH: sessionPath, CLIENT_ID: 'a', RESUME_CONCURRENCY: '2', CLEANUP_INTERVAL_MS: '0', LEASE_TTL_MS: '2000',
        WA_WS_URL: `ws://127.0.0.1:${await closedPort()}`, RECONNECT_BASE_MS: '60000', RECONNECT_MAX_MS: '60000',
        ...(url ? { DATABASE_URL: url } : { SESSION_STORAGE: 'file' }),
      }),
      logger: pino({ level: 'silent' }),
      openHandle: async (clientId, options) => {
        await new Promise<void>((go) => {
          inFlight.push({ clientId, go })
          maxInFlight = Math.max(maxInFlight, inFlight.length)
        })
        opened++
        return app.store.open(clientId, options)
      },
    })
    t.teardown(() => app.close())
    const order: string[] = []
    while (opened < ids.length) {
      t.ok(await waitFor(() => inFlight.length === Math.min(2, ids.length - opened), 10_000), `${inFlight.length} opens in flight`)
      const next = inFlight.shift()
      if (!next) break
      order.push(next.clientId)
      next.go()
    }
    t.equal(maxInFlight, 2, 'never more than RESUME_CONCURRENCY at once')
    t.equal(order[0], 'a', 'the default session first')
    t.same([...order].sort(), ids, 'every stored session opened once')
    t.ok(await waitFor(() => app.sessions.resumeProgress().status === 'done', 10_000), 'resume done')
    if (db) {
      const [taken] = await db.sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM whatsapp_session_leases WHERE owner <> 'stopped-instance:1:abcd' AND fencing_token > 1`
      t.equal(taken.n, ids.length, 'every lease was taken over from the stopped instance')
    }
  })
}

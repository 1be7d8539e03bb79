// End to end, Postgres mode with the pool behind a TCP proxy: a database outage while a contact writes
// loses no message. Each message is receipted (its event fsynced in the local spool instead of the
// unreachable database), and once the database is back every event appears in GET /events, in the
// order the messages arrived, numbered without gaps, and the spool folder is gone.
import t from 'tap'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { StoredEvent } from '../../src/events/types.js'
import { BOB, databaseProxy, getJson, migratedDatabase, pairByQr, poll, prepareProcess, startApp, startFake, tempDir } from './harness.js'

prepareProcess()

t.test('database cut: a contact sends 10 messages, all receipted; after the restore all 10 events, in order', async (t) => {
  const fake = await startFake(t)
  fake.addContact(BOB)
  const db = await migratedDatabase(t)
  const proxy = await databaseProxy(t)
  const sessionPath = await tempDir(t)
  // SESSION_LEASE=off: the single-instance promise (the lease closes the socket in a long outage).
  const { app } = await startApp(t, { fake, sessionPath, databaseUrl: proxy.url(db.url), database: { connectTimeout: 2, probe: { baseMs: 200, maxMs: 1000, timeoutMs: 3000 } }, env: { SESSION_LEASE: 'off' } })
  await pairByQr(app, fake)
  const events = async () => {
    const res = await getJson<{ events: StoredEvent[] }>(app, '/api/whatsapp/events?limit=1000')
    return res.status === 200 ? res.body.events : null
  }
  await poll('the session is open in the events', async () => (await events())?.some((e) => e.type === 'session.status' && e.data.state === 'open'))

  proxy.cut()
  const sent: Array<{ id: string }> = []
  for (let i = 0; i < 10; i++) sent.push(await fake.contactSend(BOB.pn, `during the outage ${i}`))
  const receipted = await fake.waitFor(() => {
    const ok = sent.filter((s) => fake.receipts().some((r) => r.id === s.id && r.type !== 'retry'))
    return ok.length === sent.length ? ok : undefined
  }, 60_000)
  t.equal(receipted.length, 10, 'every message receipted during the outage')
  t.notOk(fake.acks().some((a) => sent.some((s) => s.id === a.id) && a.error), 'none nacked')
  const spool = join(sessionPath, '.events-spool')
  t.ok((await readdir(spool)).length > 0, 'their events wait in the local spool')
  const gauge = async () => Number(/^whatsapp_events_spooled (\d+)$/m.exec((await app.inject({ method: 'GET', url: '/metrics' })).body)?.[1])
  t.ok((await gauge()) >= 10, 'the gauge counts them')

  proxy.restore()
  const all = await poll('the 10 events in GET /events', async () => {
    const es = await events()
    return es && es.filter((e) => e.type === 'message.received').length >= 10 && es
  }, 90_000)
  const received = all.filter((e) => e.type === 'message.received')
  t.same(received.map((e) => e.data.text), sent.map((_, i) => `during the outage ${i}`), 'each once, in arrival order')
  t.same(received.map((e) => e.data.id), sent.map((s) => s.id))
  t.same(all.map((e) => e.seq), all.map((_, i) => i + 1), 'seq without gaps')
  await poll('the spool is gone', async () => (await readdir(spool).catch(() => [])).length === 0, 30_000)
  t.equal(await gauge(), 0, 'and the gauge is back to 0')
})

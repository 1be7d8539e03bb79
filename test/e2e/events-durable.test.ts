// Events are never lost: an incoming message's event is durable before its receipt. If the outbox
// refuses it, the message is nacked (never receipted) and no event exists. With the server as a child
// process, kill -9 right after N messages were receipted, and again in the middle of a burst: after a
// restart every receipted message has exactly one event, and the sequence has no gap.
import t from 'tap'
import { spawnServer, readChildQr, waitForChildState, type ChildServer } from './child-server.js'
import { BOB, CLIENT_ID, migratedDatabase, pairByQr, poll, prepareProcess, startApp, startFake, tempDir } from './harness.js'
import type { StoredEvent } from '../../src/events/types.js'

prepareProcess()

t.test('the outbox refuses the event: the message is nacked, not receipted', async (t) => {
  const fake = await startFake(t)
  fake.addContact(BOB)
  const db = await migratedDatabase(t)
  const { app } = await startApp(t, { fake, sessionPath: await tempDir(t), databaseUrl: db.url })
  await pairByQr(app, fake)
  const stored = await fake.contactSend(BOB.pn, 'stored')
  await fake.waitFor(() => fake.receipts().find((r) => r.id === stored.id), 15_000)

  // The table refuses received messages from now on (a database that cannot take the write).
  await db.sql.unsafe(`ALTER TABLE whatsapp_events ADD CONSTRAINT refuse_received CHECK (type <> 'message.received') NOT VALID`)
  const refused = await fake.contactSend(BOB.pn, 'cannot be stored')
  const nack = await fake.waitFor(() => fake.acks().find((a) => a.id === refused.id), 15_000)
  t.ok(nack.error, `nacked (${nack.error})`)
  t.notOk(fake.receipts().some((r) => r.id === refused.id), 'never receipted: WhatsApp offers it again')
  const res = await app.inject({ method: 'GET', url: '/api/whatsapp/events?limit=1000' })
  const received = (res.json().events as StoredEvent[]).filter((e) => e.type === 'message.received').map((e) => e.data.text)
  t.same(received, ['stored'], 'only the stored message is an event')
})

const CONTACTS = Array.from({ length: 3 }, (_, i) => ({ pn: `1555020${String(i).padStart(4, '0')}`, lid: `50000000000${String(i).padStart(4, '0')}`, name: `C${i}` }))

async function eventsOf(server: ChildServer): Promise<StoredEvent[]> {
  const out: StoredEvent[] = []
  for (let after = 0; ;) {
    const res = await server.get(`/api/whatsapp/events?after=${after}&limit=1000`)
    if (res.status !== 200) throw new Error(`GET /events: ${res.status}`)
    out.push(...res.body.events)
    if (res.body.next === res.body.lastSeq) return out
    after = res.body.next
  }
}

for (const mode of ['postgres', 'file'] as const) t.test(`kill -9 (${mode} mode): every receipted message has exactly one event after the restart, without seq gaps`, async (t) => {
  const fake = await startFake(t)
  for (const c of CONTACTS) fake.addContact(c)
  const db = mode === 'postgres' ? await migratedDatabase(t) : null
  const sessionPath = await tempDir(t, 'wa-events-kill-')
  const env = { ...(db ? { DATABASE_URL: db.url } : { SESSION_STORAGE: 'file' }), SESSION_PATH: sessionPath, CLIENT_ID, WA_WS_URL: fake.url }
  const receipted = (ids: string[]) => ids.filter((id) => fake.receipts().some((r) => r.id === id && r.type !== 'retry'))

  const first = await spawnServer(t, { name: 'first', env })
  await fake.scanQR(await readChildQr(first))
  await waitForChildState(first, 'open')
  // N messages, all receipted, then kill -9 at once.
  const N = 30
  const burst = await Promise.all(Array.from({ length: N }, (_, i) => fake.contactSend(CONTACTS[i % CONTACTS.length]!.pn, `first burst ${i}`)))
  await fake.waitFor(() => receipted(burst.map((s) => s.id)).length === N || undefined, 30_000)
  first.kill('SIGKILL')
  t.equal((await first.exited).signal, 'SIGKILL')

  const second = await spawnServer(t, { name: 'second', env })
  let events = await eventsOf(second)
  const texts = (es: StoredEvent[]) => es.filter((e) => e.type === 'message.received').map((e) => e.data.text as string)
  t.equal(texts(events).filter((x) => x.startsWith('first burst')).length, N, `all ${N} receipted messages are events`)
  t.same(events.map((e) => e.seq), events.map((_, i) => i + 1), 'seq from 1 without gaps')

  // Again in the middle of a burst: whatever was receipted before the kill is stored.
  await waitForChildState(second, 'open', 30_000)
  const more = await Promise.all(Array.from({ length: N }, (_, i) => fake.contactSend(CONTACTS[i % CONTACTS.length]!.pn, `second burst ${i}`)))
  await fake.waitFor(() => receipted(more.map((s) => s.id)).length >= N / 2 || undefined, 30_000)
  second.kill('SIGKILL')
  await second.exited
  const before = receipted(more.map((s) => s.id))
  const third = await spawnServer(t, { name: 'third', env })
  events = await eventsOf(third)
  const ids = events.filter((e) => e.type === 'message.received').map((e) => e.data.id as string)
  for (const id of before) t.equal(ids.filter((x) => x === id).length, 1, `${id}: receipted before the kill, stored once`)
  t.ok(before.length >= N / 2, `${before.length} of ${N} receipted before the kill`)
  t.equal(new Set(ids).size, ids.length, 'no message twice')
  t.same(events.map((e) => e.seq), events.map((_, i) => i + 1), 'still no gap')
  if (db) {
    const [{ n }] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM whatsapp_events WHERE client_id = ${CLIENT_ID} AND type = 'message.received'`
    t.equal(n, ids.length, 'the table holds what the API returns')
  }
  await waitForChildState(third, 'open', 30_000)
  await poll('the session reports open again', async () => (await eventsOf(third)).some((e) => e.seq > events.length && e.type === 'session.status' && e.data.state === 'open'))
  third.kill('SIGTERM')
  t.equal((await third.exited).code, 0)
})

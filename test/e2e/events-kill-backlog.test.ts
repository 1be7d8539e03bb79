// Acceptance: kill -9 with 50 undelivered events, and an offline backlog of 100 incoming messages on
// WhatsApp; after the restart every one of the 150 reaches the webhook. The server runs as a child
// process in Postgres mode with WEBHOOK_URL at a local consumer. While the consumer answers 503 a
// contact sends 50 messages: all stored as events and receipted, none delivered. kill -9; the contact
// sends 100 more, which WhatsApp keeps for the next login. The server restarts on the same database
// and session folder, the consumer answers 200: each of the 150 message ids arrives (counted), every
// request verifies with standardwebhooks, the delivered seqs are increasing and contiguous, and a
// message keeps its event id across attempts and the restart.
import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { startConsumer, type Received } from '../helpers/webhook-consumer.js'
import { SECRET } from '../helpers/webhook-worker.js'
import { readChildQr, spawnServer, waitForChildState, type ChildServer } from './child-server.js'
import { BOB, CLIENT_ID, migratedDatabase, poll, prepareProcess, startFake, tempDir } from './harness.js'
import type { StoredEvent } from '../../src/events/types.js'

prepareProcess()

interface Body { id: string; type: string; seq: number; clientId: string; data: Record<string, any> }

const LIVE = 50
const BACKLOG = 100

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

t.test(`kill -9 with ${LIVE} undelivered events and a backlog of ${BACKLOG} messages: all ${LIVE + BACKLOG} reach the webhook after the restart`, async (t) => {
  const started = performance.now()
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`
  let down = true
  const status = new Map<Received, number>()
  const consumer = await startConsumer((r) => {
    const s = down ? 503 : 200
    status.set(r, s)
    return s
  })
  t.teardown(consumer.close)
  const fake = await startFake(t)
  fake.addContact(BOB)
  const db = await migratedDatabase(t)
  const sessionPath = await tempDir(t, 'wa-events-kill-backlog-')
  const env = { DATABASE_URL: db.url, SESSION_PATH: sessionPath, CLIENT_ID, WA_WS_URL: fake.url, WEBHOOK_URL: consumer.url, WEBHOOK_SECRET: SECRET }

  const first = await spawnServer(t, { name: 'first', env })
  await fake.scanQR(await readChildQr(first))
  await waitForChildState(first, 'open')

  // The consumer is down: 50 messages, each stored as an event and receipted, none delivered.
  const live: string[] = []
  for (let i = 1; i <= LIVE; i++) live.push((await fake.contactSend(BOB.pn, `while the consumer is down ${i}`)).id)
  const receipted = (id: string) => fake.receipts().some((r) => r.id === id && r.type !== 'retry')
  await fake.waitFor(() => live.every(receipted) || undefined, 60_000)
  const stored = await poll(`${LIVE} message.received events stored`, async () => {
    const events = (await eventsOf(first)).filter((e) => e.type === 'message.received' && live.includes(e.data.id as string))
    return events.length === LIVE && events
  }, 30_000)
  t.equal(new Set(stored.map((e) => e.data.id)).size, LIVE, `${LIVE} distinct messages stored as events, all receipted`)
  await poll('the consumer refused a delivery', () => consumer.received.length > 0)
  t.ok([...status.values()].every((s) => s === 503), `none delivered before the kill (${consumer.received.length} attempts, all answered 503)`)
  t.comment(`${elapsed()}: ${LIVE} stored and receipted, ${consumer.received.length} refused attempts`)

  first.kill('SIGKILL')
  t.equal((await first.exited).signal, 'SIGKILL', 'killed, not stopped')
  await fake.waitFor(() => fake.liveConnections() === 0 || undefined, 10_000)

  // While the server is dead the contact keeps writing: WhatsApp keeps it for the next login.
  const queued: Array<{ id: string; type: string }> = []
  for (let i = 1; i <= BACKLOG; i++) queued.push(await fake.contactSend(BOB.pn, `while the server is dead ${i}`))
  t.ok(queued.every((s) => s.type === 'queued'), 'queued, nobody is connected')
  const backlog = queued.map((s) => s.id)
  t.equal(fake.backlog(), BACKLOG, `${BACKLOG} messages wait on the fake`)

  // The consumer is back before the server, so the restarted server's first attempt succeeds.
  down = false
  const refusedBefore = consumer.received.length
  const restartedAt = performance.now()
  const second = await spawnServer(t, { name: 'second', env })
  await waitForChildState(second, 'open', 60_000)

  const wh = new Webhook(SECRET)
  const verified = () => consumer.received.map((r) => ({ r, body: wh.verify(r.body, r.headers as Record<string, string>) as Body, ok: status.get(r) === 200 }))
  const all = [...live, ...backlog]
  const deliveredIds = () => new Set(verified().filter((v) => v.ok && v.body.type === 'message.received').map((v) => v.body.data.id as string))
  await poll(`all ${all.length} message.received webhooks`, () => all.every((id) => deliveredIds().has(id)), 90_000, 200)
  t.comment(`${elapsed()}: all ${all.length} delivered, ${((performance.now() - restartedAt) / 1000).toFixed(1)} s after the restart`)
  t.equal(fake.backlog(), 0, 'the backlog was delivered at the login')
  t.ok(backlog.every(receipted), `the ${BACKLOG} backlog messages were receipted`)

  // Counted: exactly the 150 message ids the contact sent, each at least once.
  const requests = verified() // wh.verify throws on any bad signature
  t.pass(`every one of the ${requests.length} requests verifies (signature, id, timestamp)`)
  const delivered = requests.filter((v) => v.ok).map((v) => v.body)
  const received = delivered.filter((b) => b.type === 'message.received')
  const ids = new Set(received.map((b) => b.data.id as string))
  t.equal(ids.size, LIVE + BACKLOG, `${ids.size} distinct message ids delivered (${received.length} message.received deliveries)`)
  t.same([...ids].sort(), [...all].sort(), 'exactly the messages the contact sent')
  t.equal(received.filter((b) => live.includes(b.data.id)).length >= LIVE, true, `the ${LIVE} sent before the kill`)
  t.equal(received.filter((b) => backlog.includes(b.data.id)).length >= BACKLOG, true, `the ${BACKLOG} of the offline backlog`)
  t.ok(delivered.every((b) => b.clientId === CLIENT_ID), 'all of the session')

  // Order and gaps: attempts never go back in seq; deliveries are strictly increasing and contiguous.
  const attemptSeqs = requests.map((v) => v.body.seq)
  t.ok(attemptSeqs.every((s, i) => i === 0 || s >= attemptSeqs[i - 1]!), 'attempts in seq order')
  const seqs = delivered.map((b) => b.seq)
  t.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), `${seqs.length} deliveries with strictly increasing seq`)
  const seqSet = [...new Set(seqs)].sort((a, b) => a - b)
  t.same(seqSet, Array.from({ length: seqSet[seqSet.length - 1]! - seqSet[0]! + 1 }, (_, i) => seqSet[0]! + i), `seq ${seqSet[0]}..${seqSet[seqSet.length - 1]} without a gap`)

  // Stable ids: a message always maps to one event id (refused attempts, the restart, deliveries),
  // the one it was stored with before the kill.
  t.ok(requests.every(({ r, body }) => r.headers['webhook-id'] === body.id), 'webhook-id is the event id on every request')
  const eventIdOf = new Map<string, Set<string>>()
  for (const { body } of requests) {
    if (body.type === 'message.received') eventIdOf.set(body.data.id, (eventIdOf.get(body.data.id) ?? new Set()).add(body.id))
  }
  t.ok([...eventIdOf.values()].every((s) => s.size === 1), 'each message id maps to a single event id')
  t.ok(stored.every((e) => eventIdOf.get(e.data.id as string)?.has(e.id)), `the ${LIVE} stored before the kill were delivered with the ids they had then`)
  t.comment(`${requests.length} requests: ${refusedBefore} refused before the kill, ${delivered.length} delivered after the restart`)

  // The table agrees: one event per message.
  const [{ n }] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM whatsapp_events WHERE client_id = ${CLIENT_ID} AND type = 'message.received'`
  t.equal(n, LIVE + BACKLOG, `${n} message.received rows in whatsapp_events`)
  t.same(fake.errors().decrypt, [], 'no decryption failure')
  second.kill('SIGTERM')
  t.equal((await second.exited).code, 0, 'stops cleanly')
})

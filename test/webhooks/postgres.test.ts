// Delivery state in Postgres (a real database): a restart resumes from the shared cursor, a crash
// before the cursor was written re-sends (at least once) but never skips, a dead letter moves the
// cursor atomically, and deleting the session removes its webhook but keeps its cursor (like its seq).
import t from 'tap'
import { createSealer } from '../../src/messages/payload.js'
import { createPostgresWebhookStore } from '../../src/webhooks/store/postgres.js'
import { createMigratedDatabase } from '../helpers/db.js'
import { createManualClock, type ManualClock } from '../helpers/manual-clock.js'
import { waitFor } from '../helpers/poll.js'
import { createMemoryOutbox } from '../helpers/memory-outbox.js'
import { startConsumer, type Received } from '../helpers/webhook-consumer.js'
import { buildWorker, drive, globalEndpoint, SECRET, textEvent } from '../helpers/webhook-worker.js'

const KEY = Buffer.alloc(32, 7).toString('base64')
const seqOf = (r: Received) => (JSON.parse(r.body) as { seq: number }).seq

t.test('restart and crash: the next holder continues from the shared cursor, nothing skipped', async (t) => {
  const { sql } = await createMigratedDatabase(t, 'wa_wh')
  await sql`INSERT INTO whatsapp_sessions (client_id) VALUES ('s1')`
  const store = createPostgresWebhookStore({ sql, sealer: createSealer(KEY) })
  const consumer = await startConsumer()
  t.teardown(consumer.close)
  const outbox = createMemoryOutbox()

  // First holder: delivers 10 and writes its cursor, then loses the session (a hand-over).
  const first = { sessions: ['s1'], clock: createManualClock() }
  const a = buildWorker({ outbox, store, global: globalEndpoint(consumer.url), ...first })
  t.teardown(a.close)
  a.worker.start()
  await outbox.append('s1', Array.from({ length: 10 }, (_, i) => textEvent(i + 1)))
  await drive(first.clock, 'ten delivered', () => consumer.received.length >= 10)
  await cursorReaches(first.clock, 10)
  first.sessions.length = 0

  // Second holder: continues at 11.
  await outbox.append('s1', Array.from({ length: 5 }, (_, i) => textEvent(i + 11)))
  const second = { sessions: ['s1'], clock: createManualClock() }
  const b = buildWorker({ outbox, store, global: globalEndpoint(consumer.url), ...second, flushMs: 3_600_000 })
  t.teardown(b.close)
  b.worker.start()
  await drive(second.clock, 'fifteen delivered', () => consumer.received.length >= 15)
  t.same(consumer.received.map(seqOf), Array.from({ length: 15 }, (_, i) => i + 1), 'a continuous sequence across the hand-over')

  // The second holder "crashes" before writing its cursor (flushMs is an hour): the third re-sends 11-15.
  second.sessions.length = 0
  await outbox.append('s1', [textEvent(16)])
  const third = { sessions: ['s1'], clock: createManualClock() }
  const c = buildWorker({ outbox, store, global: globalEndpoint(consumer.url), ...third })
  t.teardown(c.close)
  c.worker.start()
  await drive(third.clock, 'sixteen delivered', () => consumer.received.some((r) => seqOf(r) === 16) && [...c.worker.depths()].every((d) => d.depth === 0))
  t.same(consumer.received.slice(15).map(seqOf), [11, 12, 13, 14, 15, 16], 'at least once: re-sent in order, none skipped')
  for (const r of consumer.received) t.equal(String(r.headers['webhook-signature']).split(',')[0], 'v1')
  await c.worker.stop()
  t.equal((await store.cursor('global', 's1'))?.deliveredSeq, 16)

  // The consumer sees the tenth request before the worker has read its answer and marked it: keep
  // moving the clock (the flush timer) until the cursor write, real database I/O, has landed.
  async function cursorReaches(clock: ManualClock, seq: number) {
    const stored = await waitFor(async () => {
      clock.advance(500)
      return (await store.cursor('global', 's1'))?.deliveredSeq === seq
    }, 30_000)
    t.ok(stored, `cursor stored at ${seq}`)
  }
})

t.test('store: webhooks sealed at rest, dead letters move the cursor, requeue, session delete', async (t) => {
  const { sql } = await createMigratedDatabase(t, 'wa_wh')
  await sql`INSERT INTO whatsapp_sessions (client_id) VALUES ('s1')`
  const store = createPostgresWebhookStore({ sql, sealer: createSealer(KEY) })
  await t.rejects(store.putWebhook('ghost', { url: 'https://x.example.com/', secret: SECRET, events: null, headers: {} }, 0))
  await store.putWebhook('s1', { url: 'https://x.example.com/', secret: SECRET, events: ['message.*'], headers: { 'x-a': 'b' } }, 7)
  const [raw] = await sql<{ secret: string }[]>`SELECT secret FROM whatsapp_webhooks`
  t.notOk(raw.secret.includes(SECRET.slice(6)), 'the secret is sealed')
  t.equal((await store.getWebhook('s1'))?.secret, SECRET)
  t.same((await store.cursor('session', 's1'))?.deliveredSeq, 7, 'a new webhook starts at the given seq')

  await store.recordFailure('global', 's1', { seq: 3, since: new Date(0), attempts: 2, error: 'HTTP 503', status: 503 })
  t.same((await store.cursor('global', 's1'))?.failing?.attempts, 2)
  await store.advance([{ endpoint: 'global', clientId: 's1', seq: 2 }])
  t.ok((await store.cursor('global', 's1'))?.failing, 'advancing below the failing seq keeps it')
  await store.deadLetter({ endpoint: 'global', clientId: 's1', seq: 3, eventId: 'evt_3', type: 'message.received', attempts: 5, lastError: 'HTTP 503', lastStatus: 503, failedAt: new Date() })
  t.same(await store.cursor('global', 's1'), { deliveredSeq: 3, failing: null })
  await store.advance([{ endpoint: 'global', clientId: 's1', seq: 1 }, { endpoint: 'global', clientId: 'gone', seq: 9 }])
  t.equal((await store.cursor('global', 's1'))?.deliveredSeq, 3, 'cursors never go back')
  t.equal((await store.cursor('global', 'gone'))?.deliveredSeq, 9, 'a session without a row still has its cursor (its events outlive it)')
  t.same((await store.queuedFor(['s1'])), [])
  t.same((await store.requeue('s1', ['evt_3'])).map((l) => l.state), ['queued'])
  t.same(await store.queuedFor(['s1', 'other']), [{ endpoint: 'global', clientId: 's1' }])
  await sql`DELETE FROM whatsapp_sessions WHERE client_id = 's1'`
  t.equal(await store.getWebhook('s1'), null, 'the webhook goes with the session')
  t.equal((await store.cursor('global', 's1'))?.deliveredSeq, 3, 'the cursor stays: the event sequence continues if the session comes back')
  t.equal((await store.deadLetters('s1')).length, 1)
})

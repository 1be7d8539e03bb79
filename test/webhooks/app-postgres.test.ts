// The real app in Postgres mode with the real event outbox and WEBHOOK_URL: events stored while the
// server is down are delivered after a restart, from the stored cursor, in order, signed, without the
// API key; what was delivered before the restart is not sent again.
import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { createSql } from '../../src/db/index.js'
import { createPostgresOutbox } from '../../src/events/store/postgres.js'
import { createMigratedDatabase } from '../helpers/db.js'
import { eventually } from '../helpers/manual-clock.js'
import { startConsumer } from '../helpers/webhook-consumer.js'
import { SECRET, textEvent } from '../helpers/webhook-worker.js'
import { testApp } from '../app/helpers.js'

const API_KEY = 'k'.repeat(40)

t.test('restart: delivery resumes from the Postgres cursor', async (t) => {
  const { url } = await createMigratedDatabase(t, 'wa_wh_app')
  const consumer = await startConsumer()
  t.teardown(consumer.close)
  const env = { DATABASE_URL: url, API_KEY, WEBHOOK_URL: consumer.url, WEBHOOK_SECRET: SECRET, WEBHOOK_EVENTS: 'message.*' }
  const seqs = () => consumer.received.map((r) => (JSON.parse(r.body) as { seq: number; clientId: string })).filter((b) => b.clientId === 'default').map((b) => b.seq)

  const first = await testApp(t, env)
  const stored = await first.events.outbox.append('default', [textEvent(1), textEvent(2), textEvent(3)])
  await eventually('three delivered', () => seqs().filter((s) => stored.some((e) => e.seq === s)).length >= 3)
  await first.close()

  // Stored while no server runs (another path, e.g. the previous instance's last moments).
  const sql = createSql(url, { max: 1 })
  const outbox = createPostgresOutbox({ sql })
  const later = await outbox.append('default', [textEvent(4), textEvent(5)])
  await outbox.close()
  await sql.end()

  const before = consumer.received.length
  const second = await testApp(t, env)
  await eventually('two more delivered', () => later.every((e) => consumer.received.some((r) => r.headers['webhook-id'] === e.id)))
  const after = consumer.received.slice(before).map((r) => r.headers['webhook-id'])
  t.same(after.filter((id) => stored.some((e) => e.id === id)), [], 'nothing delivered before the restart is sent again')
  t.same(after.filter((id) => later.some((e) => e.id === id)), later.map((e) => e.id), 'the new ones, in order')
  const message = seqs()
  t.same(message, [...message].sort((a, b) => a - b), 'seq order throughout')
  for (const r of consumer.received) {
    t.ok(new Webhook(SECRET).verify(r.body, r.headers as Record<string, string>))
    t.notOk(JSON.stringify(r.headers).includes(API_KEY) || r.body.includes(API_KEY), 'no API key')
  }
  await second.close()
})

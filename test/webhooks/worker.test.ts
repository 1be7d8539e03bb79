// The delivery worker against a real local HTTP consumer: order, retries, dead letters, redelivery,
// rotation, filters, and the signature checked with standardwebhooks' own verify.
import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { createSealer } from '../../src/messages/payload.js'
import { createFileWebhookStore } from '../../src/webhooks/store/file.js'
import { createMemoryOutbox } from '../helpers/memory-outbox.js'
import type { Teardown } from '../helpers/teardown.js'
import { tempDir } from '../helpers/temp-dir.js'
import { startConsumer, type Received } from '../helpers/webhook-consumer.js'
import { buildWorker, drive, globalEndpoint, OLD_SECRET, SECRET, textEvent } from '../helpers/webhook-worker.js'

async function fileStore(t: Teardown) {
  return createFileWebhookStore({ dir: await tempDir(t, 'wh-'), sealer: createSealer(undefined) })
}

const settled = (worker: { depths(): Iterable<{ depth: number }> }) => [...worker.depths()].every((d) => d.depth === 0)
const okBodies = (received: Received[], ok: (r: Received) => boolean) => received.filter(ok).map((r) => JSON.parse(r.body) as { id: string; seq: number; type: string; clientId: string; data: { n: number } })

t.test('a consumer that answers 500 for a while then 200 gets every event, in order, ids unchanged, signed', async (t) => {
  let failures = 7
  const status = new Map<Received, number>()
  const consumer = await startConsumer((r) => {
    const s = failures-- > 0 ? 500 : 200
    status.set(r, s)
    return s
  })
  t.teardown(consumer.close)
  const outbox = createMemoryOutbox()
  const store = await fileStore(t)
  const { worker, clock, close } = buildWorker({ outbox, store, global: globalEndpoint(consumer.url), sessions: ['s1'] })
  t.teardown(close)
  worker.start()
  const stored = await outbox.append('s1', Array.from({ length: 20 }, (_, i) => textEvent(i + 1)))
  await drive(clock, 'all delivered', () => okBodies(consumer.received, (r) => status.get(r) === 200).length >= 20 && settled(worker))
  const delivered = okBodies(consumer.received, (r) => status.get(r) === 200)
  t.same(delivered.map((b) => b.seq), stored.map((e) => e.seq), 'each event once after the outage, in seq order')
  t.same(delivered.map((b) => b.id), stored.map((e) => e.id), 'ids are the stored ones')
  const retried = consumer.received.filter((r) => status.get(r) === 500).map((r) => r.headers['webhook-id'])
  t.same(new Set(retried), new Set([stored[0].id]), 'retries were of the first event only: nothing overtook it')
  const wh = new Webhook(SECRET)
  for (const r of consumer.received) {
    const body = wh.verify(r.body, r.headers as Record<string, string>) as { id: string }
    t.equal(r.headers['webhook-id'], body.id)
  }
  t.equal(consumer.received[0].headers['x-tenant'], 'acme', 'custom headers are sent')
  t.notOk(consumer.received.some((r) => r.headers.authorization || r.headers['x-api-key']), 'no credentials of ours')
  await worker.stop()
  t.same((await store.cursor('global', 's1'))?.deliveredSeq, 20, 'the cursor is durable at stop')
})

t.test('a 400 dead-letters the event at once, the stream continues, and redelivery sends it again with the same id', async (t) => {
  let refuse = true
  const consumer = await startConsumer((r) => (refuse && (JSON.parse(r.body) as { seq: number }).seq === 3 ? 400 : 200))
  t.teardown(consumer.close)
  const outbox = createMemoryOutbox()
  const store = await fileStore(t)
  const { worker, clock, close } = buildWorker({ outbox, store, global: globalEndpoint(consumer.url), sessions: ['s1'] })
  t.teardown(close)
  worker.start()
  const stored = await outbox.append('s1', Array.from({ length: 5 }, (_, i) => textEvent(i + 1)))
  await drive(clock, 'five requests', () => consumer.received.length >= 5)
  t.same(consumer.received.map((r) => (JSON.parse(r.body) as { seq: number }).seq), [1, 2, 3, 4, 5], 'one attempt for the refused event')
  const letters = await store.deadLetters('s1', 'failed')
  t.same(letters.map((l) => [l.seq, l.eventId, l.attempts, l.lastStatus]), [[3, stored[2].id, 1, 400]])
  refuse = false
  await outbox.append('s1', [textEvent(6)])
  const requeued = await store.requeue('s1', null)
  t.equal(requeued.length, 1)
  await worker.refresh()
  await drive(clock, 'redelivered', () => consumer.received.length >= 7)
  const seqs = consumer.received.map((r) => (JSON.parse(r.body) as { seq: number }).seq)
  t.same(seqs.slice(5), [6, 3], 'the redelivery comes after the pending events')
  t.equal(consumer.received[6].headers['webhook-id'], stored[2].id)
  // The consumer has the redelivery before the worker has read its answer and removed the dead letter.
  await drive(clock, 'dead letter gone', async () => (await store.deadLetters('s1')).length === 0)
  t.same(await store.deadLetters('s1'), [], 'a delivered redelivery leaves no dead letter')
})

t.test('an event failing for longer than the max age is dead-lettered and the next one goes', async (t) => {
  const consumer = await startConsumer((r) => ((JSON.parse(r.body) as { seq: number }).seq === 1 ? { status: 503, headers: { 'retry-after': '2' } } : 200))
  t.teardown(consumer.close)
  const outbox = createMemoryOutbox()
  const store = await fileStore(t)
  const { worker, clock, close } = buildWorker({ outbox, store, global: globalEndpoint(consumer.url), sessions: ['s1'], maxAgeMs: 10_000 })
  t.teardown(close)
  worker.start()
  await outbox.append('s1', [textEvent(1), textEvent(2)])
  await drive(clock, 'second delivered', () => consumer.received.some((r) => (JSON.parse(r.body) as { seq: number }).seq === 2))
  const attempts = consumer.received.filter((r) => (JSON.parse(r.body) as { seq: number }).seq === 1)
  const ts = attempts.map((r) => Number(r.headers['webhook-timestamp']))
  t.ok(attempts.length >= 3 && attempts.length <= 7, `bounded attempts (${attempts.length})`)
  const gaps = ts.slice(1).map((x, i) => x - ts[i])
  t.ok(gaps.every((g) => g >= 2), `Retry-After: 2 honoured between every two attempts (gaps ${gaps.join(', ')} s)`)
  const [letter] = await store.deadLetters('s1')
  t.equal(letter.seq, 1)
  t.equal(letter.lastStatus, 503)
})

t.test('during a rotation both secrets verify; the filter skips other types', async (t) => {
  const consumer = await startConsumer()
  t.teardown(consumer.close)
  const outbox = createMemoryOutbox()
  const store = await fileStore(t)
  const { worker, clock, close } = buildWorker({ outbox, store, global: globalEndpoint(consumer.url, [SECRET, OLD_SECRET], ['message.*']), sessions: ['s1'] })
  t.teardown(close)
  worker.start()
  await outbox.append('s1', [{ type: 'session.status', timestamp: new Date().toISOString(), data: {} }, textEvent(1)])
  await drive(clock, 'delivered', () => consumer.received.length >= 1 && settled(worker))
  t.equal(consumer.received.length, 1, 'session.status filtered out')
  const [r] = consumer.received
  t.equal(String(r.headers['webhook-signature']).split(' ').length, 2)
  for (const secret of [SECRET, OLD_SECRET]) t.ok(new Webhook(secret).verify(r.body, r.headers as Record<string, string>), 'verifies')
  await worker.stop()
  t.equal((await store.cursor('global', 's1'))?.deliveredSeq, 2, 'the filtered event moved the cursor too')
})

t.test('sessions this instance does not hold are not delivered', async (t) => {
  const consumer = await startConsumer()
  t.teardown(consumer.close)
  const outbox = createMemoryOutbox()
  const store = await fileStore(t)
  const { worker, clock, close } = buildWorker({ outbox, store, global: globalEndpoint(consumer.url), sessions: ['mine'] })
  t.teardown(close)
  worker.start()
  await outbox.append('theirs', [textEvent(1)])
  await outbox.append('mine', [textEvent(1)])
  await drive(clock, 'mine delivered', () => consumer.received.length >= 1)
  clock.advance(10_000)
  t.same(consumer.received.map((r) => (JSON.parse(r.body) as { clientId: string }).clientId), ['mine'])
})

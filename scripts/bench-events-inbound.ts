// The inbound phase of bench:events: the real app (buildApp, Postgres mode, a fresh migrated database)
// paired with the fake WhatsApp, WEBHOOK_URL at a local consumer, as test/e2e/webhooks.test.ts sets it
// up. A contact sends messages one at a time (the next one a gap after the previous one reached the
// webhook, so it measures latency, not a backlog: at a fixed 20 ms pace the queue grew here); for each, the time from fake.contactSend() to the consumer receiving the webhook whose
// data.id is that message id. Two references from the same messages: when the app first sees the
// message decrypted (the message store's save, the first beforeReceipt observer) and when an observer
// registered after the events producer sees it (the event is appended and durable by then).
// Imports test helpers: excluded from the production build, loaded by bench-events.ts only when run.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { BOB, CLIENT_ID, migratedDatabase, pairByQr, poll, prepareProcess, startFake } from '../test/e2e/harness.js'
import { startConsumer } from '../test/helpers/webhook-consumer.js'
import { SECRET } from '../test/helpers/webhook-worker.js'

export interface Latencies { p50: number; p95: number; p99: number; max: number }
export interface InboundRun { webhook: Latencies; decrypted: Latencies; appended: Latencies }
export interface InboundBench { run(count: number, gapMs: number): Promise<InboundRun>; close(): Promise<void> }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
function latencies(xs: number[]): Latencies {
  const s = [...xs].sort((a, b) => a - b)
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))]
  return { p50: at(50), p95: at(95), p99: at(99), max: s[s.length - 1] }
}

/** Starts the app, pairs it and waits for its first message on the webhook (a warm-up, not counted). */
export async function startInbound(): Promise<InboundBench> {
  prepareProcess()
  const teardowns: Array<() => unknown> = []
  const t = { teardown: (fn: () => unknown) => void teardowns.push(fn) }
  const webhookAt = new Map<string, number>()
  let arrived = () => {}
  const consumer = await startConsumer((r) => {
    const body = JSON.parse(r.body) as { type: string; data: { id?: string } }
    if (body.type === 'message.received' && body.data.id && !webhookAt.has(body.data.id)) webhookAt.set(body.data.id, r.at)
    arrived()
    r.body = '' // the consumer keeps every request; the bodies are not needed again
    return 204
  })
  t.teardown(consumer.close)
  const fake = await startFake(t)
  fake.addContact(BOB)
  const db = await migratedDatabase(t)
  const dir = await mkdtemp(join(tmpdir(), 'bench-inbound-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const decryptedAt = new Map<string, number>()
  const config = loadConfig({
    NODE_ENV: 'test', LOG_LEVEL: 'silent', CLIENT_ID, SESSION_PATH: dir, DATABASE_URL: db.url, WA_WS_URL: fake.url,
    WEBHOOK_URL: consumer.url, WEBHOOK_SECRET: SECRET, RATE_LIMIT_MAX: '100000',
  })
  const app = await buildApp({
    config,
    logger: pino({ level: 'silent' }),
    // The message store's save is the first beforeReceipt observer: the moment the app has the decrypted message.
    wrapMessageStore: (store) => ({
      ...store,
      save: (clientId, message, status) => {
        if (message.key.id && !decryptedAt.has(message.key.id)) decryptedAt.set(message.key.id, performance.now())
        return store.save(clientId, message, status)
      },
    }),
  })
  t.teardown(() => app.close())
  // Registered after the events producer, so it runs once the message.received event is appended.
  const appendedAt = new Map<string, number>()
  app.sessions.observe({
    async beforeReceipt(_clientId, message) {
      if (message.key.id) appendedAt.set(message.key.id, performance.now())
    },
  })
  await pairByQr(app, fake)
  const warm = await fake.contactSend(BOB.pn, 'warm-up')
  await poll('the warm-up message on the webhook', () => webhookAt.has(warm.id), 30_000, 5)

  return {
    async run(count, gapMs) {
      const sent: Array<{ id: string; at: number }> = []
      for (let i = 0; i < count; i++) {
        const at = performance.now()
        const { id } = await fake.contactSend(BOB.pn, `inbound benchmark ${i}`)
        sent.push({ id, at })
        while (!webhookAt.has(id)) await new Promise<void>((r) => (arrived = r))
        await sleep(gapMs)
      }
      const since = (m: Map<string, number>) => latencies(sent.map((s) => (m.get(s.id) as number) - s.at))
      return { webhook: since(webhookAt), decrypted: since(decryptedAt), appended: since(appendedAt) }
    },
    async close() {
      for (const fn of teardowns.reverse()) await fn()
    },
  }
}

// Builds a webhook worker for tests: memory outbox, manual clock, a store given by the test.
import pino from 'pino'
import type { EventOutbox, NewEvent } from '../../src/events/types.js'
import { createPoster } from '../../src/webhooks/http.js'
import { noMetrics } from '../../src/webhooks/metrics.js'
import type { Endpoint, WebhookStore } from '../../src/webhooks/types.js'
import { createWebhookWorker } from '../../src/webhooks/worker.js'
import { createManualClock, eventually, type ManualClock } from './manual-clock.js'
import type { Maybe } from './poll.js'

export const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
export const OLD_SECRET = 'whsec_dGhlIG9sZCBzZWNyZXQgb2YgdGhlIHRlc3RzIQ=='

export function globalEndpoint(url: string, secrets = [SECRET], events: string[] | null = null): Endpoint {
  return { kind: 'global', url: new URL(url), secrets, events, headers: { 'x-tenant': 'acme' } }
}

export function buildWorker(o: { outbox: EventOutbox; store: WebhookStore; global: Endpoint | null; sessions: string[]; clock?: ManualClock; maxAgeMs?: number; flushMs?: number }) {
  const clock = o.clock ?? createManualClock()
  const poster = createPoster()
  // Wall time that moves with the manual clock, starting now (consumers check signature timestamps).
  const wall0 = Date.now() - clock.now()
  const worker = createWebhookWorker({
    outbox: o.outbox,
    store: o.store,
    global: o.global,
    sessions: () => o.sessions,
    isLocal: (id) => o.sessions.includes(id),
    poster,
    clock,
    wallNow: () => wall0 + clock.now(),
    random: () => 0.5,
    backoff: { baseMs: 100, maxMs: 1_000 },
    timeoutMs: 5_000,
    maxAgeMs: o.maxAgeMs ?? 3_600_000,
    metrics: noMetrics,
    log: pino({ level: 'silent' }),
    pollMs: 5_000,
    flushMs: o.flushMs ?? 250,
  })
  return { worker, clock, poster, async close() { await worker.stop(); poster.close() } }
}

export const textEvent = (n: number): NewEvent => ({ type: 'message.received', timestamp: new Date(1_700_000_000_000 + n).toISOString(), data: { n } })

/**
 * Moves the manual clock on (timers: backoff, poll, flush) until check() holds; waits on real I/O between
 * steps. check may read a store (a promise).
 */
export function drive<T>(clock: ManualClock, what: string, check: () => Maybe<T> | Promise<Maybe<T>>, stepMs = 500): Promise<T> {
  return eventually(what, async () => {
    const v = await check()
    if (!v) clock.advance(stepMs)
    return v
  })
}

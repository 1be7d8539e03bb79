// Delivery metrics on the app's registry, per session (bounded: only sessions this instance delivers
// for, at most MAX_SESSIONS, and a session's series go when its stream stops) and endpoint kind.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { EndpointKind } from './types.js'

export interface WebhookMetrics {
  attempt(clientId: string, endpoint: EndpointKind, result: 'delivered' | 'retry' | 'final', seconds: number): void
  delivered(clientId: string, endpoint: EndpointKind, seconds: number): void
  deadLetter(clientId: string, endpoint: EndpointKind): void
  forget(clientId: string, endpoint: EndpointKind): void
}

export const noMetrics: WebhookMetrics = { attempt() {}, delivered() {}, deadLetter() {}, forget() {} }

/** depth() lists the undelivered events known per stream at scrape time. */
export function createWebhookMetrics(registry: Registry, depth: () => Iterable<{ clientId: string; endpoint: EndpointKind; depth: number }>): WebhookMetrics {
  const registers = [registry]
  const labelNames = ['client_id', 'endpoint'] as const
  const attempts = new Counter({ name: 'whatsapp_webhook_attempts_total', help: 'Webhook POSTs by session, endpoint and result (delivered, retry, final)', labelNames: [...labelNames, 'result'] as const, registers })
  const failures = new Counter({ name: 'whatsapp_webhook_failures_total', help: 'Webhook POSTs that did not deliver (retried or final), by session and endpoint', labelNames, registers })
  const dead = new Counter({ name: 'whatsapp_webhook_dead_letters_total', help: 'Events dead-lettered (refused by the consumer or failing longer than WEBHOOK_MAX_AGE_HOURS)', labelNames, registers })
  const latency = new Histogram({
    name: 'whatsapp_webhook_delivery_seconds',
    help: 'From the moment the delivery of an event began to its 2xx, retries included, by endpoint',
    labelNames: ['endpoint'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30, 300, 3600],
    registers,
  })
  const request = new Histogram({
    name: 'whatsapp_webhook_request_seconds',
    help: 'Duration of one webhook POST, by endpoint',
    labelNames: ['endpoint'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30],
    registers,
  })
  new Gauge({
    name: 'whatsapp_webhook_queue_depth',
    help: 'Events stored but not yet delivered, by session and endpoint (as far as this instance knows)',
    labelNames,
    registers,
    collect() {
      this.reset()
      for (const d of depth()) this.set({ client_id: d.clientId, endpoint: d.endpoint }, d.depth)
    },
  })
  return {
    attempt(clientId, endpoint, result, seconds) {
      attempts.inc({ client_id: clientId, endpoint, result })
      if (result !== 'delivered') failures.inc({ client_id: clientId, endpoint })
      request.observe({ endpoint }, seconds)
    },
    delivered: (_clientId, endpoint, seconds) => latency.observe({ endpoint }, seconds),
    deadLetter: (clientId, endpoint) => dead.inc({ client_id: clientId, endpoint }),
    forget(clientId, endpoint) {
      for (const result of ['delivered', 'retry', 'final']) attempts.remove({ client_id: clientId, endpoint, result })
      failures.remove({ client_id: clientId, endpoint })
      dead.remove({ client_id: clientId, endpoint })
    },
  }
}

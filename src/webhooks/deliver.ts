// Delivering one event to one endpoint until it is settled: attempts spaced by backoff with jitter (or
// the consumer's Retry-After), each failure recorded durably so a restart resumes the same count,
// and a dead letter when the consumer refuses the event (4xx) or it has been failing for maxAgeMs.
import type { Logger } from 'pino'
import type { StoredEvent } from '../events/types.js'
import type { BackoffOptions } from '../lib/backoff.js'
import type { Clock } from '../lib/clock.js'
import { classify } from './classify.js'
import type { Poster } from './http.js'
import type { WebhookMetrics } from './metrics.js'
import { createSigner, type Signer } from './sign.js'
import type { Cursor, Endpoint } from './types.js'

export interface DeliverDeps {
  poster: Poster
  clock: Clock
  /** Wall-clock milliseconds (signature timestamps, failing-since, dead-letter age). */
  wallNow: () => number
  random: () => number
  backoff: BackoffOptions
  timeoutMs: number
  maxAgeMs: number
  metrics: WebhookMetrics
  log: Logger
}

export type Failing = NonNullable<Cursor['failing']>

export type Settled =
  | { kind: 'delivered' }
  | { kind: 'dead'; failing: Failing }
  | { kind: 'stopped' }

export interface DeliverControl {
  /** The endpoint as it is now (a PUT may change it between attempts); null = gone. */
  endpoint(): Endpoint | null
  /** False once the stream must stop (shutdown, lease lost). */
  active(): boolean
  signal: AbortSignal
  /** Waits ms on the clock; false when stopped meanwhile. */
  sleep(ms: number): Promise<boolean>
  /** Called after every failed attempt that will be retried. */
  onRetry(failing: Failing): Promise<void>
}

const signers = new WeakMap<Endpoint, Signer>()
function signerOf(endpoint: Endpoint): Signer {
  let signer = signers.get(endpoint)
  if (!signer) signers.set(endpoint, (signer = createSigner(endpoint.secrets)))
  return signer
}

export async function deliverEvent(deps: DeliverDeps, event: StoredEvent, resume: Failing | null, control: DeliverControl): Promise<Settled> {
  const { clock, metrics } = deps
  let attempts = resume?.seq === event.seq ? resume.attempts : 0
  let since = resume?.seq === event.seq ? resume.since : null
  const startedAt = clock.now()
  for (;;) {
    const endpoint = control.endpoint()
    if (!control.active() || !endpoint) return { kind: 'stopped' }
    const at = new Date(deps.wallNow())
    const signed = signerOf(endpoint)(event, at)
    const t0 = clock.now()
    const outcome = await deps.poster.post(endpoint.url, { ...endpoint.headers, ...signed.headers }, signed.body, deps.timeoutMs, control.signal)
    if (control.signal.aborted) return { kind: 'stopped' }
    const verdict = classify(outcome, attempts, deps.backoff, deps.wallNow(), deps.random)
    attempts++
    metrics.attempt(event.clientId, endpoint.kind, verdict.kind, (clock.now() - t0) / 1000)
    if (verdict.kind === 'delivered') {
      metrics.delivered(event.clientId, endpoint.kind, (clock.now() - startedAt) / 1000)
      return { kind: 'delivered' }
    }
    since ??= at
    const failing: Failing = { seq: event.seq, since, attempts, error: verdict.error, status: verdict.status }
    if (verdict.kind === 'final' || deps.wallNow() - since.getTime() >= deps.maxAgeMs) {
      deps.log.warn({ clientId: event.clientId, endpoint: endpoint.kind, eventId: event.id, seq: event.seq, attempts, error: verdict.error }, 'webhook event dead-lettered; the stream continues')
      return { kind: 'dead', failing }
    }
    await control.onRetry(failing)
    if (!(await control.sleep(verdict.delayMs))) return { kind: 'stopped' }
  }
}

// Sends queued messages of the sessions that are open here: one drain loop per session at a time,
// oldest first, at least intervalMs (plus a random 0..jitterMs) apart so a backlog does not burst
// into WhatsApp's rate limits. Kicked when a session opens and on a slow poll (entries queued by
// another instance). A send that failed before anything left (a media host that refused the upload)
// is tried again after a short backoff, a bounded number of times, before the entry is marked failed;
// the entries behind it wait, so the order holds. stop() cancels the waits and awaits the sends under way.
import type { Logger } from 'pino'
import { backoffDelay, type BackoffOptions } from '../../lib/backoff.js'
import type { Clock } from '../../lib/clock.js'
import type { SendRequest } from '../../schemas/send.js'
import type { QueueStore } from './types.js'

export type DeliveryResult =
  | { kind: 'sent' }
  /** The session is not open here: the entry goes back, first in line. */
  | { kind: 'retry' }
  /** Nothing was sent and the cause may pass: tried again after a pause, up to `attempts` in all. */
  | { kind: 'again'; reason: string }
  | { kind: 'failed'; reason: string }

/** Attempts per entry for failures that may pass, and the pauses between them (with jitter). */
export const QUEUE_ATTEMPTS = 3
export const QUEUE_RETRY_BACKOFF: BackoffOptions = { baseMs: 2_000, maxMs: 30_000 }

export interface QueueWorkerOptions {
  queue: QueueStore
  /** Client ids of the sessions open on this instance. */
  openSessions(): string[]
  deliver(clientId: string, messageId: string, request: SendRequest): Promise<DeliveryResult>
  intervalMs: number
  jitterMs: number
  pollMs: number
  clock: Clock
  random?: () => number
  log: Logger
  /** Attempts for a result of kind 'again' (default QUEUE_ATTEMPTS), paused by `backoff` (default QUEUE_RETRY_BACKOFF). */
  attempts?: number
  backoff?: BackoffOptions
}

export function createQueueWorker(o: QueueWorkerOptions) {
  const random = o.random ?? Math.random
  const attempts = o.attempts ?? QUEUE_ATTEMPTS
  const backoff = o.backoff ?? QUEUE_RETRY_BACKOFF
  const draining = new Map<string, Promise<void>>()
  const again = new Set<string>()
  const waits = new Set<() => void>()
  let stopped = false
  let pollTimer: unknown = null

  function pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (stopped || ms <= 0) return resolve()
      const wake = () => {
        o.clock.clearTimeout(timer)
        waits.delete(wake)
        resolve()
      }
      const timer = o.clock.setTimeout(wake, ms)
      waits.add(wake)
    })
  }

  async function drain(clientId: string): Promise<void> {
    while (!stopped && o.openSessions().includes(clientId)) {
      const entry = await o.queue.claim(clientId)
      if (!entry) return
      const attempt = async (): Promise<DeliveryResult> => {
        try {
          return await o.deliver(clientId, entry.messageId, entry.request)
        } catch (err) {
          o.log.error({ err, clientId, messageId: entry.messageId }, 'a queued message could not be sent')
          return { kind: 'failed', reason: 'internal error' }
        }
      }
      let result = await attempt()
      for (let n = 1; result.kind === 'again' && n < attempts; n++) {
        o.log.warn({ clientId, messageId: entry.messageId, attempt: n, reason: result.reason }, 'a queued message failed before it was sent; trying again')
        await pause(backoffDelay(n - 1, backoff, random))
        // Stopping, or the session closed meanwhile: back in line for the next drain.
        result = stopped || !o.openSessions().includes(clientId) ? { kind: 'retry' } : await attempt()
      }
      if (result.kind === 'again') result = { kind: 'failed', reason: `${result.reason} (${attempts} attempts)` }
      if (result.kind === 'retry') {
        await o.queue.unclaim(clientId, entry.seq)
        return
      }
      if (result.kind === 'sent') await o.queue.done(clientId, entry.seq)
      else await o.queue.fail(clientId, entry.seq, result.reason)
      await pause(o.intervalMs + Math.floor(random() * (o.jitterMs + 1)))
    }
  }

  /** Starts draining the session's queue unless a drain already runs (then it looks again after). */
  function kick(clientId: string): void {
    if (stopped) return
    if (draining.has(clientId)) {
      again.add(clientId)
      return
    }
    const run = drain(clientId)
      .catch((err: unknown) => o.log.warn({ err, clientId }, 'the outbound queue could not be read; retrying at the next poll'))
      .finally(() => {
        draining.delete(clientId)
        if (again.delete(clientId)) kick(clientId)
      })
    draining.set(clientId, run)
  }

  async function poll(): Promise<void> {
    try {
      for (const clientId of await o.queue.withWork(o.openSessions())) kick(clientId)
    } catch (err) {
      o.log.warn({ err }, 'the outbound queue could not be read; retrying at the next poll')
    }
  }

  function schedulePoll(): void {
    if (stopped) return
    pollTimer = o.clock.setTimeout(() => void poll().finally(schedulePoll), o.pollMs)
  }

  return {
    kick,
    start(): void {
      void poll()
      schedulePoll()
    },
    async stop(): Promise<void> {
      stopped = true
      if (pollTimer !== null) o.clock.clearTimeout(pollTimer)
      for (const wake of [...waits]) wake()
      await Promise.allSettled([...draining.values()])
    },
  }
}

export type QueueWorker = ReturnType<typeof createQueueWorker>

// Sends queued messages of the sessions that are open here: one drain loop per session at a time,
// oldest first, at least intervalMs (plus a random 0..jitterMs) apart so a backlog does not burst
// into WhatsApp's rate limits. Kicked when a session opens and on a slow poll (entries queued by
// another instance). stop() cancels the waits and awaits the sends under way.
import type { Logger } from 'pino'
import type { Clock } from '../../lib/clock.js'
import type { SendRequest } from '../../schemas/send.js'
import type { QueueStore } from './types.js'

export type DeliveryResult = { kind: 'sent' } | { kind: 'retry' } | { kind: 'failed'; reason: string }

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
}

export function createQueueWorker(o: QueueWorkerOptions) {
  const random = o.random ?? Math.random
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
      let result: DeliveryResult
      try {
        result = await o.deliver(clientId, entry.messageId, entry.request)
      } catch (err) {
        o.log.error({ err, clientId, messageId: entry.messageId }, 'a queued message could not be sent')
        result = { kind: 'failed', reason: 'internal error' }
      }
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

// Waiting for a session to reach a state: re-checked on every state and lease change, optionally
// bounded (the bound on the injected clock).
import type { EventEmitter } from 'node:events'
import type { Clock } from '../lib/clock.js'
import type { SessionEvents } from './session-types.js'

/** Resolves once reached() is true (checked now and on each change), after maxMs, or on abort. */
export function whenReached(
  events: EventEmitter<SessionEvents>,
  reached: () => boolean,
  bound?: { clock: Clock; maxMs: number; signal?: AbortSignal },
): Promise<void> {
  if (reached() || bound?.signal?.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    let timer: unknown = null
    const done = () => {
      events.off('state', check)
      events.off('leaseState', check)
      bound?.signal?.removeEventListener('abort', done)
      if (timer !== null) bound?.clock.clearTimeout(timer)
      resolve()
    }
    bound?.signal?.addEventListener('abort', done, { once: true })
    const check = () => {
      if (reached()) done()
    }
    events.on('state', check)
    events.on('leaseState', check)
    if (bound) timer = bound.clock.setTimeout(done, bound.maxMs)
  })
}

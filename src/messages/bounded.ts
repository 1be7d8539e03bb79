// Database calls of the idempotency keys and the queue, bounded in time: an unreachable database is a
// 503 STORE_UNAVAILABLE for the request (nothing sent, the client retries), not a request that hangs
// or a 500. These need the shared database to keep their promise, so they do not fall back to files.
import type { Clock } from '../lib/clock.js'
import { withTimeout } from '../lib/timeout.js'
import { MessageError } from './errors.js'
import type { IdempotencyStore } from './idempotency/types.js'
import type { QueueStore } from './queue/types.js'

export function createBound(timeoutMs: number, clock: Clock) {
  return function bound<A extends unknown[], R>(what: string, fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
    return async (...args) => {
      try {
        return await withTimeout(fn(...args), timeoutMs, what, clock)
      } catch (err) {
        if (err instanceof MessageError) throw err
        throw new MessageError('STORE_UNAVAILABLE', `The database did not answer (${what}); nothing was sent, retry once it is back.`, undefined, { cause: err })
      }
    }
  }
}

export function boundedIdempotency(s: IdempotencyStore, timeoutMs: number, clock: Clock): IdempotencyStore {
  const bound = createBound(timeoutMs, clock)
  return {
    claim: bound('idempotency key', s.claim.bind(s)),
    complete: bound('idempotency key', s.complete.bind(s)),
    release: bound('idempotency key', s.release.bind(s)),
    purge: bound('idempotency purge', s.purge.bind(s)),
  }
}

export function boundedQueue(q: QueueStore, timeoutMs: number, clock: Clock): QueueStore {
  const bound = createBound(timeoutMs, clock)
  return {
    enqueue: bound('outbound queue', q.enqueue.bind(q)),
    waiting: bound('outbound queue', q.waiting.bind(q)),
    claim: bound('outbound queue', q.claim.bind(q)),
    done: bound('outbound queue', q.done.bind(q)),
    fail: bound('outbound queue', q.fail.bind(q)),
    unclaim: bound('outbound queue', q.unclaim.bind(q)),
    get: bound('outbound queue', q.get.bind(q)),
    withWork: bound('outbound queue', q.withWork.bind(q)),
    purge: bound('outbound queue', q.purge.bind(q)),
  }
}

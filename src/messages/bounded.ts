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

/** The store with each named method bounded; `what` names the operation in the 503's sentence. */
function boundAll<T extends object, K extends keyof T & string>(s: T, methods: readonly K[], what: (method: K) => string, bound: ReturnType<typeof createBound>): Pick<T, K> {
  const out = {} as Pick<T, K>
  for (const m of methods) {
    const fn = s[m] as unknown as (...args: unknown[]) => Promise<unknown>
    out[m] = bound(what(m), fn.bind(s)) as T[K]
  }
  return out
}

export function boundedIdempotency(s: IdempotencyStore, timeoutMs: number, clock: Clock): IdempotencyStore {
  const methods = ['claim', 'complete', 'release', 'purge'] as const
  return boundAll(s, methods, (m) => (m === 'purge' ? 'idempotency purge' : 'idempotency key'), createBound(timeoutMs, clock))
}

export function boundedQueue(q: QueueStore, timeoutMs: number, clock: Clock): QueueStore {
  const methods = ['enqueue', 'waiting', 'claim', 'done', 'fail', 'unclaim', 'get', 'withWork', 'purge'] as const
  return boundAll(q, methods, () => 'outbound queue', createBound(timeoutMs, clock))
}

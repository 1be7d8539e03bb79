import type { LeaseClock } from './types.js'

export class LeaseStatementTimeoutError extends Error {
  readonly code = 'LEASE_STATEMENT_TIMEOUT'
  constructor(ms: number) {
    super(`lease statement did not complete within ${ms} ms`)
    this.name = 'LeaseStatementTimeoutError'
  }
}

interface Cancellable<T> extends PromiseLike<T> {
  cancel(): unknown
}

/**
 * Rejects when the statement takes longer than ms, and asks the server to cancel it (best effort:
 * through a cut network the cancel cannot arrive either; the result is then simply ignored).
 */
export function withTimeout<T>(query: Cancellable<T>, ms: number, clock: LeaseClock): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => {
      reject(new LeaseStatementTimeoutError(ms))
      Promise.resolve(query.cancel()).catch(() => {})
    }, ms)
    query.then(
      (value) => { clock.clearTimeout(timer); resolve(value) },
      (err: unknown) => { clock.clearTimeout(timer); reject(err) },
    )
  })
}

export const systemClock: LeaseClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

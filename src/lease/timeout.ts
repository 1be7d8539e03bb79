import type { LeaseClock } from './types.js'

export class LeaseStatementTimeoutError extends Error {
  readonly code = 'LEASE_STATEMENT_TIMEOUT'
  constructor(ms: number) {
    super(`lease statement did not complete within ${ms} ms`)
    this.name = 'LeaseStatementTimeoutError'
  }
}

/**
 * Rejects when the statement takes longer than ms; its late result is ignored. No query.cancel():
 * postgres.js sends the cancel on a new connection and drops that promise, so through a partition
 * it rejects unhandled; and a short lease statement finishes on its own once the link is back.
 */
export function withTimeout<T>(query: PromiseLike<T>, ms: number, clock: LeaseClock): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(new LeaseStatementTimeoutError(ms)), ms)
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

// One bound for calls that may hang (a database through a broken network): the caller gets a
// TimeoutError and the late result is ignored. Nothing is cancelled: postgres.js would send the cancel
// on a new connection (which fails the same way through a partition), and a short statement finishes
// on its own once the link is back.
import { systemClock, type Clock } from './clock.js'

export class TimeoutError extends Error {
  readonly code = 'TIMEOUT'
  constructor(readonly what: string, readonly ms: number) {
    super(`${what} did not complete within ${ms} ms`)
    this.name = 'TimeoutError'
  }
}

export function withTimeout<T>(work: PromiseLike<T>, ms: number, what: string, clock: Clock = systemClock): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(new TimeoutError(what, ms)), ms)
    work.then(
      (value) => {
        clock.clearTimeout(timer)
        resolve(value)
      },
      (err: unknown) => {
        clock.clearTimeout(timer)
        reject(err)
      },
    )
  })
}

// A session's reconnect backoff: how many attempts in a row failed, the one pending retry, and when it
// fires. Delays come from the pure backoffDelay (exponential, capped, jittered); the timer from the
// injected clock, so tests drive it.
import { backoffDelay, type BackoffOptions } from '../lib/backoff.js'
import type { Clock } from '../lib/clock.js'

export class RetryTimer {
  readonly #clock: Clock
  readonly #options: BackoffOptions
  readonly #random: (() => number) | undefined
  #attempt = 0
  #timer: unknown = null
  #nextAt: Date | null = null

  constructor(clock: Clock, options: BackoffOptions, random?: () => number) {
    this.#clock = clock
    this.#options = options
    this.#random = random
  }

  /** Failed attempts in a row (0 after a success or a reset). */
  get attempt(): number {
    return this.#attempt
  }

  get nextRetryAt(): Date | null {
    return this.#nextAt
  }

  /** Runs fn after the next delay (replacing any pending retry); returns the delay in ms. */
  schedule(fn: () => void): number {
    this.cancel()
    const delay = backoffDelay(this.#attempt, this.#options, this.#random)
    this.#attempt++
    this.#nextAt = new Date(Date.now() + delay)
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null
      this.#nextAt = null
      fn()
    }, delay)
    return delay
  }

  /** Drops the pending retry, if any. */
  cancel(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer)
    this.#timer = null
    this.#nextAt = null
  }

  /** The next delay starts from the first one again. */
  reset(): void {
    this.#attempt = 0
  }
}

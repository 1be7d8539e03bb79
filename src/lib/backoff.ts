// Retry delays: exponential growth from baseMs, capped at maxMs. backoffDelay adds "full jitter" with a
// floor (a random delay in [cap/2, cap]): keeping half the cap avoids the near-zero delays of plain
// full jitter, which would let a flapping peer see a tight loop.
export interface BackoffOptions {
  baseMs: number
  maxMs: number
}

/** The cap for attempt number `attempt` (0 = first retry): min(max, base * 2^attempt). Pure. */
export function exponentialDelay(attempt: number, options: BackoffOptions): number {
  const n = Math.max(0, Math.floor(attempt))
  // 2^n overflows to Infinity long after it passes any sane cap; Math.min handles it.
  return Math.min(options.maxMs, options.baseMs * 2 ** Math.min(n, 52))
}

/** Delay before retry number `attempt` (0 = first retry). `random` in [0, 1), injectable for tests. */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const half = exponentialDelay(attempt, options) / 2
  return Math.round(half + random() * half)
}

// Reconnect delays: bounded exponential backoff with "full jitter" (AWS architecture blog): a random
// delay in [cap/2, cap] where cap = min(max, base * 2^attempt). Keeping half the cap as a floor avoids
// the near-zero delays of plain full jitter, which would let a flapping server see a tight loop.
export interface BackoffOptions {
  baseMs: number
  maxMs: number
}

/** Delay before reconnect attempt number `attempt` (0 = first retry). `random` in [0, 1) for tests. */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const n = Math.max(0, Math.floor(attempt))
  // 2^n overflows to Infinity long after it passes any sane cap; Math.min handles it.
  const cap = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(n, 52))
  const half = cap / 2
  return Math.round(half + random() * half)
}

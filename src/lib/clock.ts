// Monotonic time and timers behind one interface, so anything with timers (leases, backoff, probes,
// deliveries) can be driven by a test clock instead of the machine's speed.
export interface Clock {
  /** Monotonic milliseconds (performance.now by default). */
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

// A Clock (src/lib/clock.ts) that only moves when the test says so: timers fire in due order inside
// advance(), so code with timers (leases, backoff) is driven exactly, whatever the machine's speed.
import type { Clock } from '../../src/lib/clock.js'
import { poll, type Maybe } from './poll.js'

interface Timer {
  id: number
  at: number
  fn: () => void
}

export interface ManualClock extends Clock {
  /** Moves time forward by ms, firing every timer that falls due on the way, in order. */
  advance(ms: number): void
  /**
   * Like advance, but after each timer fires it awaits settle() (the I/O the timer started: a
   * statement, a socket), so a timer set by that I/O is judged from the time it was set.
   */
  run(ms: number, settle: () => Promise<unknown>): Promise<void>
  /** Delays (from now) of the timers still pending, soonest first. */
  pending(): number[]
}

export function createManualClock(start = 1_000_000): ManualClock {
  let now = start
  let nextId = 1
  const timers = new Map<number, Timer>()
  const due = () => [...timers.values()].sort((a, b) => a.at - b.at || a.id - b.id)[0]
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const timer = { id: nextId++, at: now + Math.max(0, ms), fn }
      timers.set(timer.id, timer)
      return timer.id
    },
    clearTimeout(handle) {
      timers.delete(handle as number)
    },
    advance(ms) {
      const until = now + ms
      for (let t = due(); t && t.at <= until; t = due()) {
        timers.delete(t.id)
        now = t.at
        t.fn()
      }
      now = until
    },
    async run(ms, settle) {
      const until = now + ms
      for (let t = due(); t && t.at <= until; t = due()) {
        timers.delete(t.id)
        now = t.at
        t.fn()
        await settle()
      }
      now = until
    },
    pending() {
      return [...timers.values()].map((t) => t.at - now).sort((a, b) => a - b)
    },
  }
}

/**
 * Waits (on real I/O, not on time) until check() is truthy: a database answer, a socket event. The
 * bound only turns a hang into a failure; nothing asserts how long it took.
 */
export function eventually<T>(what: string, check: () => Maybe<T> | Promise<Maybe<T>>, limitMs = 20_000): Promise<T> {
  return poll(what, check, limitMs, 5)
}

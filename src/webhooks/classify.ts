// What an attempt's outcome means: delivered (2xx), retry later (5xx, 408, 429, timeouts, connection
// errors; Retry-After honoured), or final (any other answer: the consumer refused this event).
import { backoffDelay, type BackoffOptions } from '../lib/backoff.js'
import type { PostOutcome } from './http.js'

export type Verdict =
  | { kind: 'delivered' }
  | { kind: 'retry'; delayMs: number; error: string; status: number | null }
  | { kind: 'final'; error: string; status: number }

/** Retry-After longer than this is read as this: a consumer cannot park a stream for days. */
export const MAX_RETRY_AFTER_MS = 3_600_000

/** Retry-After in ms (seconds or an HTTP date), or null when absent or unreadable. */
export function retryAfterMs(value: string | undefined, nowMs: number): number | null {
  if (value === undefined) return null
  const v = value.trim()
  if (/^\d+$/.test(v)) return Math.min(Number(v) * 1000, MAX_RETRY_AFTER_MS)
  const at = Date.parse(v)
  if (Number.isNaN(at)) return null
  return Math.min(Math.max(0, at - nowMs), MAX_RETRY_AFTER_MS)
}

export function classify(
  outcome: PostOutcome,
  attempt: number,
  backoff: BackoffOptions,
  nowMs: number,
  random: () => number = Math.random,
): Verdict {
  if (outcome.kind === 'error') return { kind: 'retry', delayMs: backoffDelay(attempt, backoff, random), error: outcome.error, status: null }
  const { status } = outcome
  if (status >= 200 && status < 300) return { kind: 'delivered' }
  if (status >= 500 || status === 408 || status === 429) {
    const delay = backoffDelay(attempt, backoff, random)
    const asked = retryAfterMs(outcome.retryAfter, nowMs)
    return { kind: 'retry', delayMs: asked === null ? delay : Math.max(delay, asked), error: `HTTP ${status}`, status }
  }
  return { kind: 'final', error: `HTTP ${status}`, status }
}

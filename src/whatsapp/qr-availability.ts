// Whether a session can show a QR code right now, and if not, why and when to ask again. Pure: the
// caller passes the session's status snapshot, its current QR and the time; GET /qr turns a refusal
// into an HTTP answer (code, sentence, Retry-After).
import type { SessionStatusSnapshot } from './session.js'

export interface CurrentQr {
  value: string
  expiresAt: Date
}

export type QrAvailability =
  | { available: true; qr: CurrentQr }
  | {
      available: false
      code: 'ALREADY_CONNECTED' | 'LEASE_HELD_ELSEWHERE' | 'QR_NOT_READY'
      /** A sentence for this case; absent when the code's general sentence says it all. */
      message?: string
      details?: Record<string, unknown>
      /** Seconds after which asking again may succeed (1-60); absent when waiting will not help. */
      retryAfterSeconds?: number
    }

/** Without a scheduled retry, a session still connecting usually has its QR within a couple of seconds. */
const DEFAULT_WAIT_MS = 2000
const MAX_RETRY_AFTER_S = 60

export function qrAvailability(status: SessionStatusSnapshot, qr: CurrentQr | null, nowMs: number): QrAvailability {
  if (status.state === 'open') return { available: false, code: 'ALREADY_CONNECTED' }
  if (qr) return { available: true, qr }
  const holder = status.lease?.holder
  if (status.state === 'standby' && holder && holder !== status.lease?.owner) {
    return {
      available: false,
      code: 'LEASE_HELD_ELSEWHERE',
      message: `No QR here: instance ${holder} runs this session; ask that instance (or stop it and retry here).`,
      details: { state: status.state, lease: status.lease },
    }
  }
  const retryAt = status.reconnect.nextRetryAt ? Date.parse(status.reconnect.nextRetryAt) : nowMs + DEFAULT_WAIT_MS
  const retryAfterSeconds = Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil((retryAt - nowMs) / 1000)))
  const message = status.state === 'replaced'
    ? 'No QR: another connection replaced this session. POST /api/whatsapp/reconnect to take it back, then retry.'
    : status.state === 'standby'
      ? 'No QR yet: this instance is taking the session lease (if it stays so, the database is unreachable). Retry after Retry-After seconds.'
      : undefined
  return { available: false, code: 'QR_NOT_READY', message, details: { state: status.state }, retryAfterSeconds }
}

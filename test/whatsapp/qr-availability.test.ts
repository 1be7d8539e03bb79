// The QR decision of GET /qr, without sockets or HTTP: the QR, or why not and when to ask again.
import t from 'tap'
import { qrAvailability } from '../../src/whatsapp/qr-availability.js'
import type { SessionStatusSnapshot } from '../../src/whatsapp/session.js'

const NOW = Date.parse('2025-01-01T12:00:00.000Z')

function status(overrides: Partial<SessionStatusSnapshot>): SessionStatusSnapshot {
  return {
    clientId: 'default',
    state: 'connecting',
    account: null,
    connectedSince: null,
    lastDisconnect: null,
    reconnect: { attempt: 0, nextRetryAt: null },
    qrAvailable: false,
    startedAt: '2025-01-01T11:59:00.000Z',
    lease: null,
    ...overrides,
  }
}

const lease = (holder: string | null) => ({ role: 'standby' as const, owner: 'me:1:a', holder, fencingToken: 3, expiresAt: '2025-01-01T12:00:08.000Z', takeovers: 1 })

t.test('a current QR is returned; an open session needs none', async (t) => {
  const qr = { value: '2@abc', expiresAt: new Date(NOW + 60_000) }
  t.same(qrAvailability(status({ state: 'qr' }), qr, NOW), { available: true, qr })
  t.same(qrAvailability(status({ state: 'open' }), null, NOW), { available: false, code: 'ALREADY_CONNECTED' })
})

t.test('still connecting: QR_NOT_READY, Retry-After from the next retry, between 1 and 60 s', async (t) => {
  t.match(qrAvailability(status({}), null, NOW), { available: false, code: 'QR_NOT_READY', retryAfterSeconds: 2, details: { state: 'connecting' } })
  const at = (ms: number) => status({ state: 'reconnecting', reconnect: { attempt: 3, nextRetryAt: new Date(NOW + ms).toISOString() } })
  t.match(qrAvailability(at(4_200), null, NOW), { retryAfterSeconds: 5 })
  t.match(qrAvailability(at(-5_000), null, NOW), { retryAfterSeconds: 1 }, 'a retry due already: 1 s')
  t.match(qrAvailability(at(600_000), null, NOW), { retryAfterSeconds: 60 }, 'capped at 60 s')
})

t.test('replaced: says how to take the session back', async (t) => {
  t.match(qrAvailability(status({ state: 'replaced' }), null, NOW), { code: 'QR_NOT_READY', message: /replaced.*POST \/api\/whatsapp\/reconnect/ })
})

t.test('standby: another instance holding the lease is named; no holder yet means wait', async (t) => {
  const elsewhere = qrAvailability(status({ state: 'standby', lease: lease('other:2:b') }), null, NOW)
  t.match(elsewhere, { available: false, code: 'LEASE_HELD_ELSEWHERE', message: /other:2:b/, details: { state: 'standby', lease: { holder: 'other:2:b' } } })
  t.notOk('retryAfterSeconds' in elsewhere && elsewhere.retryAfterSeconds !== undefined, 'waiting here does not help')
  t.match(qrAvailability(status({ state: 'standby', lease: lease(null) }), null, NOW), { code: 'QR_NOT_READY', message: /taking the session lease/, retryAfterSeconds: 2 })
})

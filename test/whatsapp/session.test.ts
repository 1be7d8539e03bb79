// Session lifecycle without WhatsApp: WA_WS_URL at a closed local port makes every socket fail at
// once, which exercises the transient-failure path (backoff, cancellation, forced reconnect). The
// backoff runs on a manual clock and a pinned jitter, so every delay is exact and nothing waits on time.
import t from 'tap'
import pino from 'pino'
import { createSessionStore } from '../../src/keystore/index.js'
import { Session, type SessionState } from '../../src/whatsapp/session.js'
import { closedPort, tempDir, type Teardown } from '../app/helpers.js'
import { createManualClock, eventually } from '../helpers/manual-clock.js'

async function setup(t: Teardown) {
  const store = await createSessionStore({ sessionPath: await tempDir(t) })
  t.teardown(() => store.close())
  const clock = createManualClock()
  const session = new Session({
    clientId: 'lifecycle',
    openHandle: () => store.open('lifecycle'),
    logger: pino({ level: 'silent' }),
    reconnect: { baseMs: 100, maxMs: 800 },
    qrTimeoutMs: 60_000,
    waWsUrl: `ws://127.0.0.1:${await closedPort()}`,
    // Each delay is 3/4 of its cap: [cap/2, cap] with the jitter pinned in the middle.
    random: () => 0.5,
    clock,
  })
  t.teardown(() => session.stop())
  const states: SessionState[] = []
  let disconnects = 0
  session.on('state', (s) => states.push(s))
  session.on('disconnect', () => disconnects++)
  /** The next retry once the refused socket has closed: its delay, as the session scheduled it. */
  const nextRetry = async () => (await eventually('a scheduled retry', () => clock.pending().length === 1 && session.state === 'reconnecting' && clock.pending()))[0]
  return { store, session, states, clock, nextRetry, disconnects: () => disconnects }
}

t.test('a refused connection backs off with growing delays, no tight loop', async (t) => {
  const { session, states, clock, nextRetry, disconnects } = await setup(t)
  t.equal(session.state, 'starting')
  await session.start()
  const delays: number[] = []
  for (let i = 0; i < 5; i++) {
    const delay = await nextRetry()
    delays.push(delay)
    t.equal(disconnects(), i + 1, `attempt ${i + 1} failed once`)
    clock.advance(delay)
  }
  // Caps 100, 200, 400, 800, 800; each delay 3/4 of its cap.
  t.same(delays, [75, 150, 300, 600, 600], 'exponential, capped at RECONNECT_MAX')
  t.ok(states.includes('connecting') && states.includes('reconnecting'))
  const status = session.status()
  t.equal(status.reconnect.attempt, 5)
  t.ok(status.lastDisconnect && typeof status.lastDisconnect.reason === 'string')
  t.equal(status.account, null)
  t.equal(status.qrAvailable, false)
})

t.test('stop() cancels the pending retry: no attempt after it, state stopped', async (t) => {
  const { session, clock, nextRetry, disconnects } = await setup(t)
  await session.start()
  await nextRetry()
  t.ok(session.status().reconnect.nextRetryAt, 'a retry is scheduled')
  await session.stop()
  t.equal(session.state, 'stopped')
  t.equal(session.status().reconnect.nextRetryAt, null)
  t.same(clock.pending(), [], 'the retry timer is gone')
  const count = disconnects()
  clock.advance(60_000)
  t.equal(disconnects(), count, 'no socket after stop')
  await session.stop() // idempotent
  await t.rejects(session.reconnect(), { code: 'SESSION_STOPPED' })
  await t.rejects(session.start(), { code: 'SESSION_STOPPED' })
})

t.test('reconnect(): concurrent calls share one attempt and reset the backoff', async (t) => {
  const { session, clock, nextRetry, disconnects } = await setup(t)
  await session.start()
  for (let i = 0; i < 3; i++) clock.advance(await nextRetry())
  await nextRetry()
  t.equal(session.status().reconnect.attempt, 4)
  const before = disconnects()
  const a = session.reconnect()
  const b = session.reconnect()
  t.equal(a, b, 'same promise')
  await Promise.all([a, b])
  t.equal(await nextRetry(), 75, 'the next delay is the first one again')
  t.equal(disconnects(), before + 1, 'one attempt for both calls')
  t.equal(session.status().reconnect.attempt, 1, 'backoff restarted from the first delay')
})

t.test('operations that need an open session say so', async (t) => {
  const { session, nextRetry } = await setup(t)
  await session.start()
  await nextRetry()
  await t.rejects(session.sendText('+14155550123', 'hi'), { code: 'SESSION_NOT_OPEN' })
  await t.rejects(session.sendText('not a number', 'hi'), { code: 'INVALID_PHONE' })
  await t.rejects(session.requestPairingCode('+14155550123'), { code: 'PAIRING_NOT_AVAILABLE' })
  t.equal(session.qr(), null)
  t.same(await session.keyCounts(), {}, 'a session that never linked has no signal keys stored')
  t.ok(session.storeHealth()?.mode === 'file')
})

// Session lifecycle without WhatsApp: WA_WS_URL at a closed local port makes every socket fail at
// once, which exercises the transient-failure path (backoff, cancellation, forced reconnect).
import t from 'tap'
import pino from 'pino'
import { createSessionStore } from '../../src/keystore/index.js'
import { Session, type SessionState } from '../../src/whatsapp/session.js'
import { closedPort, tempDir, waitFor, type Teardown } from '../app/helpers.js'

async function setup(t: Teardown) {
  const store = await createSessionStore({ sessionPath: await tempDir(t) })
  t.teardown(() => store.close())
  const session = new Session({
    clientId: 'lifecycle',
    openHandle: () => store.open('lifecycle'),
    logger: pino({ level: 'silent' }),
    reconnect: { baseMs: 100, maxMs: 800 },
    qrTimeoutMs: 60_000,
    waWsUrl: `ws://127.0.0.1:${await closedPort()}`,
  })
  t.teardown(() => session.stop())
  const states: SessionState[] = []
  const disconnects: number[] = []
  session.on('state', (s) => states.push(s))
  session.on('disconnect', () => disconnects.push(Date.now()))
  return { store, session, states, disconnects }
}

t.test('a refused connection backs off with growing delays, no tight loop', async (t) => {
  const { session, states, disconnects } = await setup(t)
  t.equal(session.state, 'starting')
  await session.start()
  t.ok(await waitFor(() => disconnects.length >= 4, 5000), 'several attempts')
  t.equal(session.state === 'reconnecting' || session.state === 'connecting', true, `state ${session.state}`)
  t.ok(states.includes('connecting') && states.includes('reconnecting'))
  const gaps = disconnects.slice(1).map((at, i) => at - disconnects[i])
  // Delays are in [cap/2, cap] with cap 100, 200, 400, 800: each gap at least half the previous cap.
  t.ok(gaps[0] >= 45, `first gap ${gaps[0]} ms`)
  t.ok(gaps[2] >= 190, `third gap ${gaps[2]} ms grows`)
  const status = session.status()
  t.ok(status.reconnect.attempt >= 4)
  t.ok(status.lastDisconnect && typeof status.lastDisconnect.reason === 'string')
  t.equal(status.account, null)
  t.equal(status.qrAvailable, false)
})

t.test('stop() cancels the pending retry: no attempt after it, state stopped', async (t) => {
  const { session, disconnects } = await setup(t)
  await session.start()
  t.ok(await waitFor(() => session.state === 'reconnecting', 3000))
  t.ok(session.status().reconnect.nextRetryAt, 'a retry is scheduled')
  await session.stop()
  t.equal(session.state, 'stopped')
  t.equal(session.status().reconnect.nextRetryAt, null)
  const count = disconnects.length
  await new Promise((r) => setTimeout(r, 1200))
  t.equal(disconnects.length, count, 'no socket after stop')
  await session.stop() // idempotent
  await t.rejects(session.reconnect(), { code: 'SESSION_STOPPED' })
  await t.rejects(session.start(), { code: 'SESSION_STOPPED' })
})

t.test('reconnect(): concurrent calls share one attempt and reset the backoff', async (t) => {
  const { session, disconnects } = await setup(t)
  await session.start()
  t.ok(await waitFor(() => session.status().reconnect.attempt >= 3, 5000))
  const before = disconnects.length
  const a = session.reconnect()
  const b = session.reconnect()
  t.equal(a, b, 'same promise')
  await Promise.all([a, b])
  t.ok(await waitFor(() => disconnects.length === before + 1, 2000))
  t.equal(session.status().reconnect.attempt, 1, 'backoff restarted from the first delay')
})

t.test('operations that need an open session say so', async (t) => {
  const { session } = await setup(t)
  await session.start()
  await t.rejects(session.sendText('+14155550123', 'hi'), { code: 'SESSION_NOT_OPEN' })
  await t.rejects(session.sendText('not a number', 'hi'), { code: 'INVALID_PHONE' })
  await t.rejects(session.requestPairingCode('+14155550123'), { code: 'PAIRING_NOT_AVAILABLE' })
  t.equal(session.qr(), null)
  t.same(await session.keyCounts(), await session.keyCounts())
  t.ok(session.storeHealth()?.mode === 'file')
})

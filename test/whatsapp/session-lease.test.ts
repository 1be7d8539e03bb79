// A session with a lease, against the fake WhatsApp: the moment the lease is lost the status stops
// saying "open", even while the store is still flushing (during a database outage that can take long).
import t from 'tap'
import pino from 'pino'
import { createSessionStore } from '../../src/keystore/index.js'
import type { AuthStateHandle } from '../../src/keystore/types.js'
import type { LeaseState } from '../../src/lease/index.js'
import { Session, type SessionLeaseHandlers } from '../../src/whatsapp/session.js'
import { prepareProcess, startFake, tempDir } from '../e2e/harness.js'
import { eventually } from '../helpers/manual-clock.js'

const enforced = prepareProcess()

function leaseState(role: LeaseState['role'], fencingToken: number | null): LeaseState {
  return {
    clientId: 'leased', owner: 'me', role, fencingToken, holder: role === 'holder' ? 'me' : null, expiresAt: null,
    takeovers: 0, acquisitions: 1, renewals: 0, renewFailures: 0, losses: role === 'standby' ? 1 : 0, lastError: null,
  }
}

t.test('lease lost: state leaves "open" at once, before the store has flushed', async (t) => {
  t.ok(enforced, 'signature verification enforced')
  const fake = await startFake(t)
  const store = await createSessionStore({ sessionPath: await tempDir(t) })
  t.teardown(() => store.close())
  // The store's close (the flush under the old fencing token) is held until the test lets it go.
  let releaseFlush!: () => void
  const flushHeld = new Promise<void>((r) => { releaseFlush = r })
  let flushStarted = false
  const openHandle = async (): Promise<AuthStateHandle> => {
    const handle = await store.open('leased')
    return {
      ...handle,
      state: handle.state,
      close: async () => {
        flushStarted = true
        await flushHeld
        await handle.close()
      },
    }
  }
  let handlers!: SessionLeaseHandlers
  let role: LeaseState['role'] = 'standby'
  const session = new Session({
    clientId: 'leased',
    openHandle,
    lease: (h) => {
      handlers = h
      return {
        start: () => { role = 'holder'; void h.onAcquired({ fencingToken: 1 }) },
        stop: async () => { role = 'stopped'; return true },
        get state() { return leaseState(role, role === 'holder' ? 1 : null) },
      }
    },
    logger: pino({ level: 'silent' }),
    reconnect: { baseMs: 100, maxMs: 1000 },
    qrTimeoutMs: 60_000,
    waWsUrl: fake.url,
  })
  t.teardown(async () => {
    releaseFlush()
    await session.stop()
  })
  session.once('qr', () => void fake.scanQR(session.qr()?.value ?? ''))
  await session.start()
  await eventually('open', () => session.state === 'open', 20_000)
  t.match(session.status(), { state: 'open', account: { jid: /^15550001111:\d+@s\.whatsapp\.net$/ } })

  role = 'standby'
  const lost = handlers.onLost({ fencingToken: 1, reason: 'deadline' })
  await eventually('the flush to start', () => flushStarted)
  const status = session.status()
  t.equal(status.state, 'standby', 'not "open" while the flush is still running')
  t.equal(status.account, null)
  t.equal(status.connectedSince, null)
  await t.rejects(session.sendText('+15550002222', 'x'), { code: 'SESSION_NOT_OPEN' })
  t.throws(() => session.assertLeaseHolder(), { code: 'LEASE_HELD_ELSEWHERE' })
  await eventually('the fake sees the socket closed', () => fake.liveConnections() === 0)
  releaseFlush()
  await lost
  t.equal(session.state, 'standby')
})

// End to end: WhatsApp replaces the connection (stream:error conflict, close 440). The app reports
// `replaced` and does not reconnect by itself (which would kick the other client off in turn); an
// operator's POST /reconnect takes the session back.
import t from 'tap'
import {
  CLIENT_ID,
  getJson,
  migratedDatabase,
  pairByQr,
  prepareProcess,
  startApp,
  startFake,
  status,
  tempDir,
  waitForState,
} from './harness.js'

const enforced = prepareProcess()

t.test('440 replaced: stops, reports replaced, does not reconnect', async (t) => {
  t.ok(enforced, 'signature verification enforced')
  const fake = await startFake(t)
  const db = await migratedDatabase(t)
  // A short backoff: had the app scheduled a reconnect, it would fire within the quiet period below.
  const { app } = await startApp(t, {
    fake,
    sessionPath: await tempDir(t),
    databaseUrl: db.url,
    env: { RECONNECT_BASE_MS: '200', RECONNECT_MAX_MS: '400' },
  })
  await pairByQr(app, fake)
  const states: string[] = []
  app.sessions.get(CLIENT_ID).on('state', (next) => states.push(next))
  const attempts = fake.connectionAttempts()

  t.equal(fake.kickConflict(), 1, 'the fake sent conflict to the live connection')
  const replaced = await waitForState(app, 'replaced', 10_000)
  t.equal(replaced.status.lastDisconnect?.code, 440, 'status reports 440')
  t.equal(replaced.status.connected, false)
  t.equal(replaced.status.reconnect.nextRetryAt, null, 'no retry scheduled')

  // Proving an absence needs a wait: 3 s is several times the longest backoff delay configured (400 ms).
  await new Promise((r) => setTimeout(r, 3000))
  t.equal(fake.connectionAttempts(), attempts, 'no login attempt after the conflict')
  t.equal(fake.liveConnections(), 0)
  t.equal((await status(app)).state, 'replaced', 'still replaced')
  t.same(states, ['replaced'], 'no state change other than replaced')
  const qr = await getJson<{ error: { code: string; message: string } }>(app, '/api/whatsapp/qr')
  t.equal(qr.status, 425)
  t.match(qr.body.error, { code: 'QR_NOT_READY', message: /replaced/ }, 'GET /qr explains the session was replaced')

  const res = await app.inject({ method: 'POST', url: '/api/whatsapp/reconnect', payload: {} })
  t.equal(res.statusCode, 200, 'POST /reconnect is the way back')
  await waitForState(app, 'open', 20_000)
  t.equal(fake.connectionAttempts(), attempts + 1, 'one login for the explicit reconnect')
  t.same(fake.errors(), { internal: [], decrypt: [], unhandledIqs: [] })
})

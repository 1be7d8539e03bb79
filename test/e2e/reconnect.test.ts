// End to end: the fake drops the websocket (Baileys sees 428). The app backs off, reconnects with the
// stored credentials and is open again: one new login, after a delay within the backoff bounds.
import t from 'tap'
import {
  BOB,
  CLIENT_ID,
  migratedDatabase,
  pairByQr,
  prepareProcess,
  receivedText,
  send,
  startApp,
  startFake,
  tempDir,
  waitForState,
} from './harness.js'

const enforced = prepareProcess()
const BASE_MS = 1000

t.test('a dropped connection reconnects with backoff', async (t) => {
  t.ok(enforced, 'signature verification enforced')
  const fake = await startFake(t)
  fake.addContact(BOB)
  const db = await migratedDatabase(t)
  const { app } = await startApp(t, {
    fake,
    sessionPath: await tempDir(t),
    databaseUrl: db.url,
    env: { RECONNECT_BASE_MS: String(BASE_MS), RECONNECT_MAX_MS: '8000' },
  })
  await pairByQr(app, fake)
  const session = app.sessions.get(CLIENT_ID)
  const states: string[] = []
  session.on('state', (next) => states.push(next))
  const attempts = fake.connectionAttempts()
  const droppedAt = Date.now()

  t.equal(fake.dropConnection(), 1, 'the fake dropped the one live connection')
  const reconnecting = await waitForState(app, 'reconnecting', 10_000)
  t.equal(reconnecting.status.lastDisconnect?.code, 428, 'status reports the close code (428 connection closed)')
  t.equal(reconnecting.status.reconnect.attempt, 1, 'first reconnect attempt scheduled')
  const retryAt = Date.parse(reconnecting.status.reconnect.nextRetryAt ?? '')
  t.ok(retryAt - droppedAt >= BASE_MS / 2 - 50 && retryAt - droppedAt <= BASE_MS + 1000,
    `the retry waits within the backoff bounds (${retryAt - droppedAt} ms, base ${BASE_MS})`)

  const open = await waitForState(app, 'open', 20_000)
  t.ok(Date.now() - droppedAt >= BASE_MS / 2 - 50, 'open again only after the backoff delay')
  t.equal(open.status.account?.jid, '15550001111:7@s.whatsapp.net')
  t.same(states, ['reconnecting', 'connecting', 'open'], 'reconnecting -> connecting -> open')
  t.equal(fake.connectionAttempts() - attempts, 1, 'exactly one new login')
  await fake.waitFor(() => fake.liveConnections() === 1, 10_000)
  t.equal(fake.maxConcurrentConnections(), 1, 'never two connections at once')

  const sent = await send(app, BOB.pn, 'after the reconnect')
  t.equal(sent.status, 200, 'and it sends')
  await receivedText(fake, 'after the reconnect')
  t.same(fake.errors(), { internal: [], decrypt: [], unhandledIqs: [] })
})

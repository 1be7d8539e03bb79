// End to end, Postgres mode: the phone unlinks the device (stream:error 401). The app wipes everything
// stored for the session (database rows, keys, mirror file) and offers a fresh QR from new credentials,
// which pairs again.
import t from 'tap'
import { existsSync } from 'node:fs'
import {
  ACCOUNT_PN,
  CLIENT_ID,
  migratedDatabase,
  mirrorFile,
  pairByQr,
  poll,
  prepareProcess,
  readQr,
  startApp,
  startFake,
  storedInDb,
  tempDir,
  waitForState,
} from './harness.js'

const enforced = prepareProcess()
/** ref,noiseKey,identityKey,advSecret,platform: the keys show whether the credentials are new. */
const qrKeys = (qr: string) => qr.split(',').slice(1, 4).join(',')

t.test('401 logged out: stored data wiped, a fresh QR offered', async (t) => {
  t.ok(enforced, 'signature verification enforced')
  const fake = await startFake(t)
  const db = await migratedDatabase(t)
  const sessionPath = await tempDir(t)
  const { app } = await startApp(t, { fake, sessionPath, databaseUrl: db.url })
  const paired = await pairByQr(app, fake)
  await poll('the session stored in Postgres', async () => (await storedInDb(db.sql)).keys['pre-key'] === 812)
  t.ok(existsSync(mirrorFile(sessionPath)), 'mirror file before the logout')
  const states: string[] = []
  app.sessions.get(CLIENT_ID).on('state', (next) => states.push(next))

  fake.unpair()
  const fresh = await poll('a fresh QR', async () => {
    const q = await readQr(app, 20_000)
    return q.qr !== paired.qr.qr && q
  }, 20_000)
  t.ok(states.includes('logged_out'), `went through logged_out (${states.join(' -> ')})`)
  t.equal(states.at(-1), 'qr', 'and offers a QR')
  t.not(qrKeys(fresh.qr), qrKeys(paired.qr.qr), 'the new QR carries new keys: fresh credentials')

  const stored = await storedInDb(db.sql)
  t.equal(stored.keys['pre-key'] ?? 0, 0, 'no pre-keys left in Postgres')
  t.same(stored.keys, {}, 'no keys at all in Postgres')
  t.equal(stored.row, null, 'no whatsapp_sessions row in Postgres')
  t.notOk(existsSync(mirrorFile(sessionPath)), 'no mirror file of the logged-out account')

  // The fresh QR is real: the phone scans it and the session opens again, on a new companion device.
  await fake.scanQR(fresh.qr)
  const { status } = await waitForState(app, 'open', 20_000)
  t.match(status.account?.jid, new RegExp(`^${ACCOUNT_PN}:\\d+@s\\.whatsapp\\.net$`), 'linked again')
  t.same(fake.errors(), { internal: [], decrypt: [], unhandledIqs: [] })
})

// End to end, file mode: link by phone number instead of QR. POST /api/whatsapp/pairing-code gives the
// code, the fake phone enters it (link_code_companion_reg), and the session opens and is stored.
import t from 'tap'
import { existsSync } from 'node:fs'
import {
  ACCOUNT_PN,
  BOB,
  mirrorFile,
  prepareProcess,
  readQr,
  receivedText,
  send,
  startApp,
  startFake,
  tempDir,
  waitForState,
} from './harness.js'

const enforced = prepareProcess()

t.test('pairing code: POST /pairing-code, the phone enters it, open', async (t) => {
  t.ok(enforced, 'signature verification enforced')
  const fake = await startFake(t)
  fake.addContact(BOB)
  const sessionPath = await tempDir(t)
  const { app } = await startApp(t, { fake, sessionPath })
  t.equal(app.store.mode, 'file', 'file mode (no DATABASE_URL)')

  const early = await app.inject({ method: 'POST', url: '/api/whatsapp/pairing-code', payload: { phone: `+${ACCOUNT_PN}` } })
  t.equal(early.statusCode, 409, 'asked while still connecting: 409')
  t.equal(early.json().error.code, 'PAIRING_NOT_AVAILABLE', 'PAIRING_NOT_AVAILABLE until the socket waits for a link')
  await readQr(app) // the socket waits for a link (state qr)
  const res = await app.inject({ method: 'POST', url: '/api/whatsapp/pairing-code', payload: { phone: `+${ACCOUNT_PN}` } })
  t.equal(res.statusCode, 200)
  const body = res.json() as { clientId: string; pairingCode: string }
  t.match(body, { clientId: 'e2e', pairingCode: /^[A-Z0-9]{4}-?[A-Z0-9]{4}$/ }, 'an 8-character pairing code')

  await fake.enterPairingCode(body.pairingCode)
  const { status } = await waitForState(app, 'open', 20_000)
  t.equal(status.account?.jid, `${ACCOUNT_PN}:7@s.whatsapp.net`, 'open with the account JID')
  t.equal(fake.preKeyCount(), 812, '812 pre-keys uploaded')
  t.ok(existsSync(mirrorFile(sessionPath)), 'the session file is stored')

  const sent = await send(app, BOB.pn, 'linked by code')
  t.equal(sent.status, 200)
  t.equal((await receivedText(fake, 'linked by code')).text, 'linked by code', 'and it sends')
  t.same(fake.errors(), { internal: [], decrypt: [], unhandledIqs: [] })
})

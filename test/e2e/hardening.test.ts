// End to end: the e2e set-up runs with the signature hardening on (as server.ts does), so the app
// refuses a WhatsApp server whose certificate chain is not signed by the trusted root: no QR is ever
// offered, and the same app pairs with a correctly signed fake.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { WA_CERT_DETAILS } from '@whiskeysockets/baileys'
import { FIXTURE_ROOT_PUBLIC_KEY } from '../fake-whatsapp/index.js'
import { getJson, pairByQr, poll, prepareProcess, startApp, startFake, status, tempDir } from './harness.js'

const enforced = prepareProcess()

t.test('the app refuses a fake signed by another root', async (t) => {
  t.ok(enforced, 'Curve signature verification is enforced')
  t.same(Buffer.from(WA_CERT_DETAILS.PUBLIC_KEY), Buffer.from(FIXTURE_ROOT_PUBLIC_KEY), 'the trusted root is the test fixture')
  const impostor = await startFake(t, { rootSeed: randomBytes(32) })
  const { app } = await startApp(t, { fake: impostor, sessionPath: await tempDir(t) })
  const refused = await poll('a refused handshake', async () => {
    const s = await status(app)
    return s.lastDisconnect && s
  })
  t.equal(refused.lastDisconnect?.code, 400, 'Baileys closed the socket at the certificate check (400)')
  t.equal(refused.state, 'reconnecting', 'and the app backs off')
  t.equal(impostor.waitingForScan(), 0, 'the impostor never got to show a QR')
  t.equal((await getJson(app, '/api/whatsapp/qr')).status, 425, 'GET /qr has no QR to give')

  const genuine = await startFake(t)
  const other = await startApp(t, { fake: genuine, sessionPath: await tempDir(t) })
  const { status: open } = await pairByQr(other.app, genuine)
  t.equal(open.state, 'open', 'a fake signed by the trusted root pairs')
})

// End to end: a second account started over the API (POST /api/whatsapp/sessions) comes back by itself
// after a restart, like the default one: every stored session that is linked is resumed at boot.
import t from 'tap'
import { getJson, migratedDatabase, pairByQr, poll, prepareProcess, startApp, startFake, tempDir, waitForState, type App } from './harness.js'

const enforced = prepareProcess()
const SECOND = { pn: '15550009999', lid: '900000000000009' }

const stateOf = async (app: App, clientId: string) =>
  (await getJson<{ state?: string; account?: { jid: string } | null }>(app, `/api/whatsapp/status?clientId=${clientId}`)).body

t.test('stored linked sessions are resumed at boot', async (t) => {
  t.ok(enforced, 'signature verification enforced')
  const fake = await startFake(t)
  const db = await migratedDatabase(t)
  const sessionPath = await tempDir(t)

  const first = await startApp(t, { fake, sessionPath, databaseUrl: db.url })
  await pairByQr(first.app, fake)
  const created = await first.app.inject({ method: 'POST', url: '/api/whatsapp/sessions', payload: { clientId: 'second' } })
  t.equal(created.statusCode, 201, 'a second session starts')
  const qr = await poll('a QR for the second session', async () => {
    const res = await getJson<{ qr?: string }>(first.app, '/api/whatsapp/qr?clientId=second')
    return res.status === 200 && res.body.qr
  })
  await fake.scanQR(qr, { pn: SECOND.pn, lid: SECOND.lid })
  await poll('second open', async () => (await stateOf(first.app, 'second')).state === 'open')
  // A third session that never linked is stored as inactive and is not resumed.
  t.equal((await first.app.inject({ method: 'POST', url: '/api/whatsapp/sessions', payload: { clientId: 'never-linked' } })).statusCode, 201)
  await first.close()

  const second = await startApp(t, { fake, sessionPath, databaseUrl: db.url })
  await waitForState(second.app, 'open')
  const resumed = await poll('second resumed and open', async () => {
    const s = await stateOf(second.app, 'second')
    return s.state === 'open' && s
  })
  t.equal(resumed.account?.jid, `${SECOND.pn}:7@s.whatsapp.net`, 'the second account is back without a QR')
  const neverLinked = await getJson<{ error?: { code: string } }>(second.app, '/api/whatsapp/status?clientId=never-linked')
  t.equal(neverLinked.status, 404, 'a session that never linked is not started again')
})

// End to end, Postgres mode: pair an empty database by QR through the API, send a message the fake
// contact decrypts, then restart from the database alone (mirror folder deleted): no QR, open, send
// again, and the contact's reply is decrypted by the app (no Bad MAC on either side).
import t from 'tap'
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import {
  ACCOUNT_PN,
  BOB,
  CLIENT_ID,
  contactWritesAndAppDecrypts,
  decryptFailures,
  migratedDatabase,
  mirrorFile,
  pairByQr,
  poll,
  prepareProcess,
  receivedText,
  send,
  startApp,
  startFake,
  status,
  storedInDb,
  tempDir,
  waitForState,
} from './harness.js'

const enforced = prepareProcess()

t.test('pair, send, restart from Postgres alone', async (t) => {
  t.ok(enforced, 'Curve signature verification is enforced, as server.ts does at start-up')
  // LID only on the first device lookup: the first send after a restart then reuses the stored session
  // instead of Baileys' forced re-key, so its type shows whether the session came back from Postgres.
  const fake = await startFake(t, { lidOnFirstLookupOnly: true })
  const bob = fake.addContact(BOB)
  const db = await migratedDatabase(t)
  const sessionPath = await tempDir(t)
  t.same(await storedInDb(db.sql), { row: null, keys: {} }, 'the database starts empty')

  // 1. Pair
  const first = await startApp(t, { fake, sessionPath, databaseUrl: db.url })
  t.equal(first.app.store.mode, 'postgres', 'the app runs in Postgres mode')
  const { qr, status: open } = await pairByQr(first.app, fake)
  t.ok(qr.notReady.length > 0, 'GET /qr answered not-ready before the QR existed')
  t.ok(qr.notReady.every((r) => r.status === 425 && r.code === 'QR_NOT_READY'), 'every not-ready answer is 425 QR_NOT_READY')
  t.match(qr.qr, /^[^,]+,[^,]+,[^,]+,[^,]+/, 'the QR string carries ref, noise key, identity key and ADV secret')
  t.equal(open.account?.jid, `${ACCOUNT_PN}:7@s.whatsapp.net`, 'open with the account JID')
  t.equal(open.connected, true)
  t.equal(fake.preKeyCount(), 812, 'the fake holds the 812 uploaded pre-keys')

  // The status row is written right after open: poll the database rather than sleep.
  const inDb = await poll('the active row and 812 pre-keys in Postgres', async () => {
    const s = await storedInDb(db.sql)
    return s.row?.status === 'active' && s.keys['pre-key'] === 812 && s
  }).catch(() => storedInDb(db.sql))
  t.same(inDb.row, { status: 'active', jid: `${ACCOUNT_PN}:7@s.whatsapp.net` }, 'whatsapp_sessions row: active, account JID')
  t.equal(inDb.keys['pre-key'], 812, '812 pre-keys stored in Postgres')
  t.ok(existsSync(mirrorFile(sessionPath)), `mirror file ${CLIENT_ID}.json on disk`)

  // 2. Send
  const sent = await send(first.app, BOB.pn, 'hello bob from the API')
  t.equal(sent.status, 200)
  t.match(sent.body, { messageId: /^[0-9A-F]{16,}$/i, to: bob.jid }, 'the response has a message id and the JID')
  const got = await receivedText(fake, 'hello bob from the API')
  t.equal(got.text, 'hello bob from the API', 'the fake contact decrypted exactly the text sent')
  t.equal(got.to, bob.jid)
  t.equal(got.id, sent.body.messageId, 'with the message id the API returned')

  const reply1 = await contactWritesAndAppDecrypts(fake, BOB.pn, 'hi back, first app')
  t.not(reply1.receipt.type, 'retry', 'the app decrypted the reply (receipt, not a retry request)')

  // 3. Restart: graceful close, mirror folder deleted, new app on the same database
  await first.close()
  await fake.waitFor(() => fake.liveConnections() === 0, 10_000)
  await rm(sessionPath, { recursive: true, force: true })
  const attemptsBefore = fake.connectionAttempts()
  const waitingBefore = fake.waitingForScan()

  const second = await startApp(t, { fake, sessionPath, databaseUrl: db.url })
  const { seen, status: reopened } = await waitForState(second.app, 'open')
  t.notOk(seen.includes('qr'), `no QR on the way to open (states: ${seen.join(' -> ')})`)
  t.equal(fake.waitingForScan(), waitingBefore, 'the fake never got a pairing request')
  t.equal(fake.connectionAttempts(), attemptsBefore + 1, 'one login with the stored credentials')
  t.equal(reopened.account?.jid, `${ACCOUNT_PN}:7@s.whatsapp.net`)
  t.equal(fake.preKeyCount(), 812, 'no new pre-key upload on re-login')
  t.ok(existsSync(mirrorFile(sessionPath)), 'the mirror was rebuilt from the database')

  const again = await send(second.app, BOB.pn, 'after the restart')
  t.equal(again.status, 200)
  const got2 = await receivedText(fake, 'after the restart')
  t.equal(got2.id, again.body.messageId, 'the fake decrypted the message sent after the restart')
  t.equal(got2.type, 'msg', 'on the Signal session restored from Postgres (no new pkmsg)')

  const reply2 = await contactWritesAndAppDecrypts(fake, BOB.pn, 'and a reply after the restart')
  t.not(reply2.receipt.type, 'retry', 'the restarted app decrypted the reply')
  t.same(reply2.retries, [], 'no retry receipt (no Bad MAC)')
  t.equal((await status(second.app)).state, 'open')

  t.same(decryptFailures([...first.logs, ...second.logs]), [], 'Baileys logged no decrypt failure')
  t.same(fake.errors(), { internal: [], decrypt: [], unhandledIqs: [] }, 'the fake saw no error and no Bad MAC')
  t.equal(fake.maxConcurrentConnections(), 1, 'never two connections at once')
})

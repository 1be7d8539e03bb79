// What must survive a restart (Postgres mode): an Idempotency-Key answered before the restart gets
// the same answer after it and sends nothing; a contact's retry receipt for a message sent before the
// restart is answered from the message store (Baileys' own cache died with the old socket), and the
// contact decrypts the resent message. Concurrent requests with one key send one message.
import t from 'tap'
import { BOB, migratedDatabase, pairByQr, poll, prepareProcess, startApp, startFake, tempDir, waitForState } from './harness.js'
import { routeMedia, sendJson } from './messages-harness.js'

prepareProcess()

t.test('idempotency keys and retry receipts across a restart', async (t) => {
  const fake = await startFake(t)
  routeMedia(fake)
  fake.addContact(BOB)
  const db = await migratedDatabase(t)
  const sessionPath = await tempDir(t)
  const env = { SEND_RATE_LIMIT_MAX: '1000', SESSION_ENCRYPTION_KEY: 'a'.repeat(64) }
  const first = await startApp(t, { fake, sessionPath, databaseUrl: db.url, env })
  await pairByQr(first.app, fake)
  const count = (text: string) => fake.received().filter((m) => m.text === text).length

  // Three identical requests at once, one key: one message.
  const key = { 'idempotency-key': 'order-42-confirmation' }
  const body = { to: BOB.pn, text: 'order 42 is confirmed' }
  const answers = await Promise.all([1, 2, 3].map(() => sendJson(first.app, body, key)))
  const ok = answers.filter((a) => a.status === 200)
  t.ok(ok.length >= 1, 'at least one answered 200')
  for (const a of answers) t.ok(a.status === 200 || (a.status === 409 && a.body.error?.code === 'IDEMPOTENCY_KEY_IN_USE'), `200 or 409 IDEMPOTENCY_KEY_IN_USE (${a.status})`)
  t.equal(new Set(ok.map((a) => a.body.messageId)).size, 1, 'every 200 names the same message')
  await poll('the message arrives', () => count(body.text) === 1)
  const firstAnswer = ok[0].body

  const again = await sendJson(first.app, body, key)
  t.equal(again.status, 200)
  t.same(again.body, firstAnswer, 'a repeat gets the first answer')
  t.equal(again.headers['idempotent-replayed'], 'true')
  // The same body written otherwise (keys in another order, a letter as an escape): the same request.
  const rewritten = await first.app.inject({
    method: 'POST', url: '/api/whatsapp/send', headers: { ...key, 'content-type': 'application/json' },
    payload: `{"text":"order 42 is \\u0063onfirmed","to":"${BOB.pn}"}`,
  })
  t.equal(rewritten.statusCode, 200, 'the same body with an escape and another key order is a repeat')
  t.same(rewritten.json(), firstAnswer)
  t.equal(rewritten.headers['idempotent-replayed'], 'true')
  const mismatch = await sendJson(first.app, { ...body, text: 'something else' }, key)
  t.equal(mismatch.status, 422)
  t.equal(mismatch.body.error?.code, 'IDEMPOTENCY_KEY_MISMATCH')

  const before = await sendJson(first.app, { to: BOB.pn, text: 'sent before the restart' })
  t.equal(before.status, 200)
  const beforeId = before.body.messageId as string
  await poll('delivered', () => fake.received().some((m) => m.id === beforeId && m.to.startsWith(BOB.pn)))
  const stored = await db.sql<{ payload: string }[]>`SELECT payload FROM whatsapp_messages WHERE message_id = ${beforeId}`
  t.match(stored[0]?.payload, /^enc:v1:/, 'the stored message is sealed with SESSION_ENCRYPTION_KEY')
  t.notMatch(stored[0]?.payload, /restart/, 'no clear text at rest')
  await first.close()

  const second = await startApp(t, { fake, sessionPath, databaseUrl: db.url, env })
  await waitForState(second.app, 'open')
  const afterRestart = await sendJson(second.app, body, key)
  t.equal(afterRestart.status, 200)
  t.same(afterRestart.body, firstAnswer, 'the same key after the restart: the first answer')
  t.equal(afterRestart.headers['idempotent-replayed'], 'true')
  t.equal(count(body.text), 1, 'and no second message')

  // A plain success is not written to its key: the message row answers for it, also once the claim's
  // lock has run out (as if the first instance had died), and the answer is then kept on the key.
  const keyRow = () => db.sql<{ state: string; body: string | null }[]>`SELECT state, response_body AS body FROM whatsapp_idempotency_keys`
  t.same(await keyRow(), [{ state: 'in_flight', body: null }], 'the key holds the claim, no answer')
  await db.sql`UPDATE whatsapp_idempotency_keys SET locked_until = now() - interval '1 second'`
  const pastLock = await sendJson(second.app, body, key)
  t.equal(pastLock.status, 200)
  t.same(pastLock.body, firstAnswer, 'past the lock: still the first answer')
  t.equal(pastLock.headers['idempotent-replayed'], 'true')
  await poll('the answer is kept on the key', async () => (await keyRow())[0]?.state === 'done')
  t.equal(count(body.text), 1, 'still one message')

  const copies = () => fake.received().filter((m) => m.id === beforeId && m.to.startsWith(BOB.pn))
  t.equal(copies().length, 1)
  fake.contactRetry(BOB.pn, beforeId)
  await poll('the message is sent again', () => copies().length === 2, 15_000)
  t.equal(copies()[1].text, 'sent before the restart', 'the contact decrypts the resent message, read from the store')
  t.same(fake.errors().decrypt, [])
})

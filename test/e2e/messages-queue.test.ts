// The outbound queue: with the session not open (here: reconnecting, its login held by the fake),
// `queue: true` answers 202 with the message id and status pending; once the session is open the
// messages go out in the order they were queued. Without `queue`, the same request is 409. A queued
// image whose upload the media server refuses is tried again after a pause, and goes out once it takes it.
import t from 'tap'
import { BOB, pairByQr, poll, prepareProcess, startApp, startFake, status, tempDir, waitForState } from './harness.js'
import { messageStatus, routeMedia, sendJson } from './messages-harness.js'
import { png } from '../helpers/media-fixtures.js'

prepareProcess()

t.test('queued while reconnecting, sent in order once open', async (t) => {
  const fake = await startFake(t)
  routeMedia(fake)
  fake.addContact(BOB)
  const { app } = await startApp(t, {
    fake,
    sessionPath: await tempDir(t),
    env: { SEND_RATE_LIMIT_MAX: '1000', MESSAGE_QUEUE_INTERVAL_MS: '20', MESSAGE_QUEUE_JITTER_MS: '20' },
  })
  await pairByQr(app, fake)
  const release = fake.holdLogins()
  fake.dropConnection()
  await poll('not open', async () => (await status(app)).state !== 'open')

  const refused = await sendJson(app, { to: BOB.pn, text: 'not queued' })
  t.equal(refused.status, 409)
  t.equal(refused.body.error?.code, 'SESSION_NOT_OPEN')

  const ids: string[] = []
  for (const n of [1, 2, 3]) {
    const res = await sendJson(app, { to: BOB.pn, text: `queued ${n}`, queue: true })
    t.equal(res.status, 202, `queued ${n}: 202`)
    t.equal(res.body.status, 'pending')
    t.equal(res.body.to, `${BOB.pn}@s.whatsapp.net`)
    ids.push(res.body.messageId as string)
  }
  const pending = await messageStatus(app, ids[0])
  t.equal(pending.status, 200)
  t.equal(pending.body.status, 'pending', 'GET /messages/:id says pending while queued')
  const badQueued = await sendJson(app, { to: 'not a number', text: 'x', queue: true })
  t.equal(badQueued.status, 400, 'a bad recipient is refused at once, not queued')

  release()
  await waitForState(app, 'open')
  const arrived = await fake.waitFor(() => {
    const got = fake.received().filter((m) => m.text.startsWith('queued ') && m.to.startsWith(BOB.pn))
    return got.length === 3 && got
  }, 20_000)
  t.same(arrived.map((m) => m.text), ['queued 1', 'queued 2', 'queued 3'], 'in the order queued')
  t.same(arrived.map((m) => m.id), ids, 'under the ids the 202 answers gave')
  const sent = await poll('sent', async () => { const s = await messageStatus(app, ids[2]); return s.body.status !== 'pending' && s })
  t.ok(['sent', 'delivered'].includes(sent.body.status as string), `then ${sent.body.status}`)
  t.notOk(fake.received().some((m) => m.text === 'not queued'))
})

t.test('a queued image whose upload is refused is tried again, and sent once the media server takes it', async (t) => {
  const fake = await startFake(t)
  routeMedia(fake)
  fake.addContact(BOB)
  const { app } = await startApp(t, { fake, sessionPath: await tempDir(t), env: { SEND_RATE_LIMIT_MAX: '1000' } })
  await pairByQr(app, fake)
  const release = fake.holdLogins()
  fake.dropConnection()
  await poll('not open', async () => (await status(app)).state !== 'open')

  fake.media.refuseUploads(true)
  const queued = await sendJson(app, { to: BOB.pn, type: 'image', caption: 'retried upload', media: { base64: png(16, 16).toString('base64') }, queue: true })
  t.equal(queued.status, 202)
  const id = queued.body.messageId as string
  release()
  await waitForState(app, 'open')
  await poll('the first attempt was refused', () => fake.media.refusedCount() > 0, 20_000)
  t.equal((await messageStatus(app, id)).body.status, 'pending', 'still pending, not failed')
  fake.media.refuseUploads(false)
  const arrived = await fake.waitFor(() => fake.received().find((m) => m.id === id), 20_000)
  t.equal(arrived.message?.imageMessage?.caption, 'retried upload', 'sent by a later attempt')
  const sent = await poll('sent', async () => { const s = await messageStatus(app, id); return s.body.status !== 'pending' && s })
  t.ok(['sent', 'delivered'].includes(sent.body.status as string), `then ${sent.body.status}`)
  t.equal(fake.received().filter((m) => m.id === id).length, 1, 'one message')
})

// 200 means WhatsApp's server has the message: a refusal in the server's ack is 502 SEND_FAILED and
// the status failed with the reason; no ack in time is 504 SEND_NOT_ACKNOWLEDGED naming the message,
// kept pending; with an Idempotency-Key that answer is kept, and a repeat sends nothing. A media upload
// WhatsApp's media server refuses is 502 MEDIA_UPLOAD_FAILED: nothing was sent, and a retry with the
// same key sends it once.
import t from 'tap'
import { png } from '../helpers/media-fixtures.js'
import { BOB, pairByQr, poll, prepareProcess, startApp, startFake, tempDir } from './harness.js'
import { messageStatus, routeMedia, sendJson } from './messages-harness.js'

prepareProcess()

t.test('no 200 without the server ack', async (t) => {
  const fake = await startFake(t)
  routeMedia(fake)
  fake.addContact(BOB)
  const { app } = await startApp(t, { fake, sessionPath: await tempDir(t), env: { SEND_RATE_LIMIT_MAX: '1000', SEND_ACK_TIMEOUT_MS: '1000' } })
  await pairByQr(app, fake)
  t.equal((await sendJson(app, { to: BOB.pn, text: 'acked' })).status, 200)

  fake.setMessageAcks('error')
  const refused = await sendJson(app, { to: BOB.pn, text: 'refused' })
  t.equal(refused.status, 502)
  t.equal(refused.body.error?.code, 'SEND_FAILED')
  const refusedId = (refused.body.error?.details as { messageId: string }).messageId
  t.type(refusedId, 'string', 'the answer names the message')
  const failed = await messageStatus(app, refusedId)
  t.equal(failed.body.status, 'failed')
  t.match(failed.body.reason, /479/)

  fake.setMessageAcks('none')
  const key = { 'idempotency-key': 'no-ack-1' }
  const silent = await sendJson(app, { to: BOB.pn, text: 'no ack' }, key)
  t.equal(silent.status, 504)
  t.equal(silent.body.error?.code, 'SEND_NOT_ACKNOWLEDGED')
  const silentId = (silent.body.error?.details as { messageId: string }).messageId
  t.equal((await messageStatus(app, silentId)).body.status, 'pending', 'kept pending: it may still arrive')
  fake.setMessageAcks('ack')
  const repeat = await sendJson(app, { to: BOB.pn, text: 'no ack' }, key)
  t.equal(repeat.status, 504, 'the kept answer, not a second send')
  t.equal(repeat.headers['idempotent-replayed'], 'true')
  await poll('the first copy reached the contact', () => fake.received().some((m) => m.text === 'no ack'))
  t.equal(fake.received().filter((m) => m.text === 'no ack').length, 1, 'one message')

  fake.media.refuseUploads(true)
  const image = { to: BOB.pn, type: 'image', caption: 'upload refused', media: { base64: png(16, 16).toString('base64') } }
  const uploadKey = { 'idempotency-key': 'upload-refused-1' }
  const noUpload = await sendJson(app, image, uploadKey)
  t.equal(noUpload.status, 502, 'the media server took nothing: 502')
  t.equal(noUpload.body.error?.code, 'MEDIA_UPLOAD_FAILED')
  t.match(noUpload.body.error?.message, /nothing was sent/)
  t.match(noUpload.body.error?.details, { reason: /refused the upload or timed out/ })
  t.notOk(fake.received().some((m) => m.message?.imageMessage?.caption === 'upload refused'), 'nothing reached the contact')
  fake.media.refuseUploads(false)
  const retried = await sendJson(app, image, uploadKey)
  t.equal(retried.status, 200, 'the retry with the same key runs again (the key was released)')
  t.notOk(retried.headers['idempotent-replayed'])
  await poll('the image reached the contact', () => fake.received().some((m) => m.message?.imageMessage?.caption === 'upload refused'))
  t.equal(fake.received().filter((m) => m.message?.imageMessage?.caption === 'upload refused').length, 1, 'one message')
})

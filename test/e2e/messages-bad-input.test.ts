// Bad input to POST /send: each a 4xx with its code and a sentence, and nothing reaches WhatsApp.
import t from 'tap'
import { html, png } from '../helpers/media-fixtures.js'
import { BOB, pairByQr, prepareProcess, startApp, startFake, tempDir } from './harness.js'
import { fileServer, MEDIA_APP, multipart, routeMedia, sendJson } from './messages-harness.js'

prepareProcess()

t.test('bad input: a 4xx with a code, nothing sent', async (t) => {
  const fake = await startFake(t)
  routeMedia(fake)
  fake.addContact(BOB)
  const files = await fileServer(t, {
    '/page.png': ['image/png', html()],
    '/big.png': ['image/png', png(200, 200)],
    '/missing-type.png': ['image/png', png(4, 4)],
  })
  const { app } = await startApp(t, {
    fake,
    sessionPath: await tempDir(t),
    env: { ...MEDIA_APP.env, SEND_RATE_LIMIT_MAX: '1000', MEDIA_MAX_BYTES: '65536' },
    mediaAgentOptions: MEDIA_APP.mediaAgentOptions,
  })
  await pairByQr(app, fake)
  const uploadsBefore = fake.media.uploads.length
  const receivedBefore = fake.received().length

  const cases: Array<[string, Record<string, unknown>, number, string]> = [
    ['a URL to 127.0.0.1', { type: 'image', media: { url: 'https://127.0.0.1:1/x.png' } }, 400, 'MEDIA_URL_REFUSED'],
    ['a name resolving to loopback', { type: 'image', media: { url: 'https://localhost:1/x.png' } }, 400, 'MEDIA_URL_REFUSED'],
    ['a URL to a link-local address', { type: 'image', media: { url: 'https://169.254.169.254/latest/meta-data' } }, 400, 'MEDIA_URL_REFUSED'],
    ['plain http', { type: 'image', media: { url: 'http://example.com/x.png' } }, 400, 'VALIDATION_FAILED'],
    ['HTML served as an image', { type: 'image', media: { url: files.url('/page.png') } }, 422, 'MEDIA_TYPE_MISMATCH'],
    ['a file over MEDIA_MAX_BYTES', { type: 'image', media: { url: files.url('/big.png') } }, 413, 'MEDIA_TOO_LARGE'],
    ['a URL that answers 404', { type: 'image', media: { url: files.url('/nothing.png') } }, 422, 'MEDIA_FETCH_FAILED'],
    ['base64 in a body over 256 KiB', { type: 'image', media: { base64: png(270, 270).toString('base64') } }, 413, 'PAYLOAD_TOO_LARGE'],
    ['base64 over MEDIA_MAX_BYTES', { type: 'image', media: { base64: png(150, 150).toString('base64') } }, 413, 'MEDIA_TOO_LARGE'],
    ['base64 that is not base64', { type: 'image', media: { base64: 'this is not base64!' } }, 400, 'INVALID_BASE64'],
    ['a PNG declared as JPEG', { type: 'image', media: { base64: png(2, 2).toString('base64'), mimetype: 'image/jpeg' } }, 422, 'MEDIA_TYPE_MISMATCH'],
    ['two media sources', { type: 'image', media: { base64: png(2, 2).toString('base64'), url: files.url('/missing-type.png') } }, 400, 'VALIDATION_FAILED'],
    ['an unknown quoted message id', { text: 'reply', quotedMessageId: 'NOSUCHMESSAGE' }, 422, 'QUOTED_MESSAGE_NOT_FOUND'],
    ['a reaction to an unknown message', { type: 'reaction', messageId: 'NOSUCHMESSAGE', emoji: '👍' }, 422, 'TARGET_MESSAGE_NOT_FOUND'],
    ['an unknown type', { type: 'poll', text: 'x' }, 400, 'VALIDATION_FAILED'],
    ['media on a text message', { type: 'text', text: 'x', media: { base64: 'AAAA' } }, 400, 'VALIDATION_FAILED'],
  ]
  for (const [what, body, status, code] of cases) {
    const res = await sendJson(app, body.type === 'reaction' ? body : { to: BOB.pn, ...body })
    t.equal(res.status, status, `${what}: ${status}`)
    t.equal(res.body.error?.code, code, `${what}: ${code} (${res.body.error?.message})`)
    t.ok((res.body.error?.message ?? '').length > 20, `${what}: a sentence`)
  }
  const tooBig = await multipart({ to: BOB.pn, type: 'image' }, { filename: 'big.png', type: 'image/png', bytes: png(200, 200) })
  const up = await app.inject({ method: 'POST', url: '/api/whatsapp/send', ...tooBig })
  t.equal(up.statusCode, 413, `an oversize upload: 413 (${up.body})`)
  t.equal(up.json().error.code, 'MEDIA_TOO_LARGE')
  const noFile = await app.inject({ method: 'POST', url: '/api/whatsapp/send', ...(await multipart({ to: BOB.pn, type: 'image' }, { name: 'file', filename: 'x.png', type: 'image/png', bytes: Buffer.alloc(0) })) })
  t.equal(noFile.statusCode, 422, 'an empty upload')
  t.equal(noFile.json().error.code, 'MEDIA_TYPE_MISMATCH')
  const queuedUpload = await app.inject({ method: 'POST', url: '/api/whatsapp/send', ...(await multipart({ to: BOB.pn, type: 'image', queue: 'true' }, { filename: 'x.png', type: 'image/png', bytes: png(2, 2) })) })
  t.ok(queuedUpload.statusCode === 200, 'queue with an open session and nothing queued sends at once')

  t.equal(fake.media.uploads.length, uploadsBefore + 1, 'nothing else was uploaded')
  t.equal(fake.received().length, receivedBefore + 1, 'nothing else was sent')
  t.equal(files.hits.filter((h) => h === '/nothing.png').length, 1)
})

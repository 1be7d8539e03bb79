// Every message type through POST /send, end to end: the fake's contact decrypts each message and the
// test checks its content (media decrypted from what was uploaded and compared byte for byte); a
// received image is downloaded through the API and compared; the status of a sent message follows
// the contact's receipts.
import t from 'tap'
import { proto } from '@whiskeysockets/baileys'
import { decryptMedia } from '../fake-whatsapp/media.js'
import { mp4, oggOpus, pdf, png, webp } from '../helpers/media-fixtures.js'
import { BOB, pairByQr, poll, prepareProcess, startApp, startFake, tempDir, type App } from './harness.js'
import { fileServer, MEDIA_APP, messageStatus, multipart, routeMedia, sendJson } from './messages-harness.js'
import type { FakeWhatsApp } from '../fake-whatsapp/index.js'

prepareProcess()

const received = (fake: FakeWhatsApp, id: string) => fake.waitFor(() => fake.received().find((m) => m.id === id && m.to.startsWith(BOB.pn)), 15_000)

async function uploadedBytes(fake: FakeWhatsApp, media: { directPath?: string | null; mediaKey?: Uint8Array | null }, type: Parameters<typeof decryptMedia>[2]) {
  const upload = fake.media.uploads.find((u) => u.directPath === media.directPath)
  if (!upload || !media.mediaKey) throw new Error('no such upload')
  return decryptMedia(upload.bytes, media.mediaKey, type)
}

t.test('each message type reaches the contact as sent', async (t) => {
  const fake = await startFake(t)
  routeMedia(fake)
  fake.addContact(BOB)
  const image = png(16, 16)
  const files = await fileServer(t, { '/cat.png': ['image/png', image] })
  const { app } = await startApp(t, { fake, sessionPath: await tempDir(t), env: { ...MEDIA_APP.env, SEND_RATE_LIMIT_MAX: '1000' }, mediaAgentOptions: MEDIA_APP.mediaAgentOptions })
  await pairByQr(app, fake)
  const send = async (body: Record<string, unknown>) => {
    const res = await sendJson(app, { to: BOB.pn, ...body })
    t.equal(res.status, 200, `${String(body.type)}: 200 (${JSON.stringify(res.body.error ?? '')})`)
    t.equal(res.body.status, 'sent')
    return received(fake, res.body.messageId as string)
  }

  const text = await send({ text: 'plain text, no type' })
  t.equal(text.message?.extendedTextMessage?.text ?? text.message?.conversation, 'plain text, no type', 'the old body still sends text')

  const viaUrl = await send({ type: 'image', media: { url: files.url('/redirect/cat.png') }, caption: 'from a URL' })
  t.equal(viaUrl.message?.imageMessage?.caption, 'from a URL')
  t.equal(viaUrl.message?.imageMessage?.mimetype, 'image/png')
  t.same(await uploadedBytes(fake, viaUrl.message?.imageMessage ?? {}, 'image'), image, 'the image fetched by URL (after a redirect) decrypts to the same bytes')

  const b64 = png(4, 4)
  const viaBase64 = await send({ type: 'image', media: { base64: b64.toString('base64') } })
  t.same(await uploadedBytes(fake, viaBase64.message?.imageMessage ?? {}, 'image'), b64, 'base64 image')

  const upload = png(8, 8)
  const form = await multipart({ to: BOB.pn, type: 'image', caption: 'uploaded' }, { filename: 'pic.png', type: 'image/png', bytes: upload })
  const up = await app.inject({ method: 'POST', url: '/api/whatsapp/send', ...form })
  t.equal(up.statusCode, 200, `multipart upload: ${up.body}`)
  const viaUpload = await received(fake, up.json().messageId)
  t.equal(viaUpload.message?.imageMessage?.caption, 'uploaded')
  t.same(await uploadedBytes(fake, viaUpload.message?.imageMessage ?? {}, 'image'), upload, 'uploaded image')

  const video = mp4()
  const v = await send({ type: 'video', media: { base64: video.toString('base64') }, caption: 'clip' })
  t.equal(v.message?.videoMessage?.mimetype, 'video/mp4')
  t.same(await uploadedBytes(fake, v.message?.videoMessage ?? {}, 'video'), video, 'video')

  const audio = oggOpus()
  const a = await send({ type: 'audio', media: { base64: audio.toString('base64') }, seconds: 3 })
  t.equal(a.message?.audioMessage?.ptt ?? false, false, 'audio is not a voice note')
  t.same(await uploadedBytes(fake, a.message?.audioMessage ?? {}, 'audio'), audio, 'audio')

  const voice = await send({ type: 'voice', media: { base64: oggOpus().toString('base64') }, seconds: 2 })
  t.equal(voice.message?.audioMessage?.ptt, true, 'voice note (ptt)')
  t.equal(voice.message?.audioMessage?.mimetype, 'audio/ogg; codecs=opus')

  const doc = pdf()
  const d = await send({ type: 'document', media: { base64: doc.toString('base64') }, fileName: 'invoice.pdf' })
  const docMessage = d.message?.documentMessage ?? d.message?.documentWithCaptionMessage?.message?.documentMessage
  t.equal(docMessage?.fileName, 'invoice.pdf')
  t.equal(docMessage?.mimetype, 'application/pdf')
  t.same(await uploadedBytes(fake, docMessage ?? {}, 'document'), doc, 'document')

  const sticker = webp()
  const s = await send({ type: 'sticker', media: { base64: sticker.toString('base64') } })
  t.same(await uploadedBytes(fake, s.message?.stickerMessage ?? {}, 'sticker'), sticker, 'sticker')

  const loc = await send({ type: 'location', latitude: 52.52, longitude: 13.405, name: 'Office' })
  t.equal(loc.message?.locationMessage?.degreesLatitude, 52.52)
  t.equal(loc.message?.locationMessage?.name, 'Office')

  const card = await send({ type: 'contact', contact: { name: 'Ada; Lovelace', phone: '+44 20 7946 0000' } })
  t.match(card.message?.contactMessage?.vcard, /FN:Ada\\; Lovelace/)
  t.match(card.message?.contactMessage?.vcard, /waid=442079460000:\+442079460000/)

  // A received image: stored before its receipt, downloadable through the API.
  const photo = png(12, 12)
  const hosted = await fake.hostMedia(photo, 'image')
  const incoming = await fake.contactSendMessage(BOB.pn, { imageMessage: { ...hosted, mimetype: 'image/png', caption: 'from Bob' } })
  await poll('the received image is stored', async () => (await messageStatus(app, incoming.id)).status === 200)
  const download = await app.inject({ method: 'GET', url: `/api/whatsapp/messages/${incoming.id}/media` })
  t.equal(download.statusCode, 200)
  t.equal(download.headers['content-type'], 'image/png')
  t.same(download.rawPayload, photo, 'the downloaded image has the bytes Bob sent')
  t.ok(fake.media.downloads.some((p) => p === hosted.directPath), 'fetched from the (routed) WhatsApp media host')

  const reply = await send({ text: 'nice photo', quotedMessageId: incoming.id })
  t.equal(reply.message?.extendedTextMessage?.contextInfo?.stanzaId, incoming.id, 'the reply quotes the received message')

  const react = await sendJson(app, { type: 'reaction', messageId: incoming.id, emoji: '👍' })
  t.equal(react.status, 200)
  const reaction = await received(fake, react.body.messageId as string)
  t.equal(reaction.message?.reactionMessage?.text, '👍')
  t.equal(reaction.message?.reactionMessage?.key?.id, incoming.id)
  const unreact = await sendJson(app, { type: 'reaction', messageId: incoming.id, emoji: '' })
  t.equal((await received(fake, unreact.body.messageId as string)).message?.reactionMessage?.text ?? '', '', 'an empty emoji removes the reaction')

  const edit = await sendJson(app, { type: 'edit', messageId: reply.id, text: 'very nice photo' })
  t.equal(edit.status, 200)
  const edited = (await received(fake, edit.body.messageId as string)).message?.protocolMessage
  t.equal(edited?.type, proto.Message.ProtocolMessage.Type.MESSAGE_EDIT)
  t.equal(edited?.key?.id, reply.id)
  t.equal(edited?.editedMessage?.extendedTextMessage?.text ?? edited?.editedMessage?.conversation, 'very nice photo')

  const del = await sendJson(app, { type: 'delete', messageId: reply.id })
  t.equal(del.status, 200)
  const revoked = (await received(fake, del.body.messageId as string)).message?.protocolMessage
  t.equal(revoked?.type, proto.Message.ProtocolMessage.Type.REVOKE)
  t.equal(revoked?.key?.id, reply.id)

  const notMine = await sendJson(app, { type: 'edit', messageId: incoming.id, text: 'x' })
  t.equal(notMine.status, 422)
  t.equal(notMine.body.error?.code, 'NOT_OWN_MESSAGE')

  const read = await sendJson(app, { type: 'read', messageId: incoming.id })
  t.equal(read.status, 200)
  t.equal(read.body.status, 'read')
  await fake.waitFor(() => fake.receipts().find((r) => r.id === incoming.id && r.type === 'read'), 15_000)
  t.pass('the contact got a read receipt for its image')

  const check = await app.inject({ method: 'GET', url: `/api/whatsapp/contacts/check?phones=${encodeURIComponent(`+${BOB.pn},+15559999999`)}` })
  t.equal(check.statusCode, 200)
  t.same(check.json().results, [
    { input: `+${BOB.pn}`, exists: true, jid: `${BOB.pn}@s.whatsapp.net` },
    { input: '+15559999999', exists: false, jid: null },
  ])
  t.same(fake.errors().decrypt, [], 'the contact decrypted everything')
})

t.test('status: pending -> sent -> delivered -> read, and played for a voice note', async (t) => {
  const fake = await startFake(t)
  routeMedia(fake)
  fake.addContact(BOB)
  const { app } = await startApp(t, { fake, sessionPath: await tempDir(t), env: { SEND_RATE_LIMIT_MAX: '1000' } })
  await pairByQr(app, fake)
  const statusOf = async (id: string) => (await messageStatus(app, id)).body
  const sent = await sendJson(app, { to: BOB.pn, text: 'track me' })
  const id = sent.body.messageId as string
  t.equal((await statusOf(id)).fromMe, true)
  await poll('delivered', async () => (await statusOf(id)).status === 'delivered')
  fake.contactReceipt(BOB.pn, id, 'read')
  const read = await poll('read', async () => { const s = await statusOf(id); return s.status === 'read' && s })
  t.type(read.sentAt, 'string')
  t.type(read.deliveredAt, 'string')
  t.type(read.readAt, 'string')
  t.equal(read.chat, `${BOB.pn}@s.whatsapp.net`)

  const voice = await sendJson(app, { to: BOB.pn, type: 'voice', media: { base64: oggOpus().toString('base64') }, seconds: 1 })
  const vid = voice.body.messageId as string
  await poll('voice delivered', async () => (await statusOf(vid)).status === 'delivered')
  fake.contactReceipt(BOB.pn, vid, 'played')
  await poll('played', async () => (await statusOf(vid)).status === 'played')
  t.pass('played')
  const unknown = await messageStatus(app, 'NOSUCHMESSAGE')
  t.equal(unknown.status, 404)
  t.equal(unknown.body.error && (unknown.body.error as { code: string }).code, 'MESSAGE_NOT_FOUND')
})

export type { App }

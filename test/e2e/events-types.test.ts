// Events end to end: the real Baileys against the fake WhatsApp. Pairing produces session.qr and
// session.status events; a contact sends each kind of message (text, reply, reaction, image, edit,
// revoke, poll, contact card, location) and each arrives once in GET /events, typed, with its fields;
// a message sent through the API gets message.status events; the SSE stream returns the same events.
import t from 'tap'
import type { AddressInfo } from 'node:net'
import { proto } from '@whiskeysockets/baileys'
import { png } from '../helpers/media-fixtures.js'
import { eventFrames, sseReader } from '../helpers/sse.js'
import { BOB, CLIENT_ID, pairByQr, poll, prepareProcess, send, startApp, startFake, tempDir, type App } from './harness.js'
import { routeMedia } from './messages-harness.js'
import type { StoredEvent } from '../../src/events/types.js'

prepareProcess()

const BOB_JID = `${BOB.pn}@s.whatsapp.net`

async function allEvents(app: App): Promise<StoredEvent[]> {
  const res = await app.inject({ method: 'GET', url: '/api/whatsapp/events?limit=1000' })
  if (res.statusCode !== 200) throw new Error(`GET /events answered ${res.statusCode}: ${res.body}`)
  return res.json().events as StoredEvent[]
}

t.test('every kind of message becomes one typed message.received event', async (t) => {
  const fake = await startFake(t)
  routeMedia(fake)
  fake.addContact(BOB)
  const { app } = await startApp(t, { fake, sessionPath: await tempDir(t) })
  const { qr } = await pairByQr(app, fake)

  const received = async (id: string) => {
    const events = await poll(`the event of ${id}`, async () => {
      const found = (await allEvents(app)).filter((e) => e.type === 'message.received' && e.data.id === id)
      return found.length > 0 ? found : undefined
    })
    return events
  }
  const one = async (id: string) => {
    // Settled: the receipt went out, so Baileys also reported the message to messages.upsert.
    await fake.waitFor(() => fake.receipts().find((r) => r.id === id), 15_000)
    const events = await received(id)
    t.equal(events.length, 1, `${id}: exactly one event`)
    return events[0]!.data as Record<string, any>
  }

  const pairing = await allEvents(app)
  const qrEvent = pairing.find((e) => e.type === 'session.qr')
  t.equal(qrEvent?.data.qr, qr.qr, 'session.qr carries the QR the API showed')
  t.match(qrEvent?.data.expiresAt, /^\d{4}-\d\d-\d\dT/)
  const states = pairing.filter((e) => e.type === 'session.status').map((e) => e.data.state)
  t.ok(states.includes('qr'), `session.status qr (${states.join(' -> ')})`)
  await poll('session.status open', async () => (await allEvents(app)).some((e) => e.type === 'session.status' && e.data.state === 'open'))

  const text = await fake.contactSend(BOB.pn, 'hello from Bob')
  t.match(await one(text.id), {
    id: text.id, type: 'text', text: 'hello from Bob', fromMe: false, group: null,
    chat: { jid: BOB_JID, phone: `+${BOB.pn}` }, sender: { jid: BOB_JID, phone: `+${BOB.pn}` }, quoted: null, media: null,
  })

  const reply = await fake.contactSendMessage(BOB.pn, {
    extendedTextMessage: { text: 'replying', contextInfo: { stanzaId: text.id, participant: BOB_JID, quotedMessage: { conversation: 'hello from Bob' } } },
  })
  t.match(await one(reply.id), { type: 'reply', text: 'replying', quoted: { id: text.id, participant: BOB_JID } })

  const reaction = await fake.contactSendMessage(BOB.pn, { reactionMessage: { key: { remoteJid: BOB_JID, fromMe: true, id: text.id }, text: '❤️', senderTimestampMs: Date.now() } })
  t.match(await one(reaction.id), { type: 'reaction', reaction: { emoji: '❤️', targetId: text.id } })

  const photo = png(10, 10)
  const hosted = await fake.hostMedia(photo, 'image')
  const image = await fake.contactSendMessage(BOB.pn, { imageMessage: { ...hosted, mimetype: 'image/png', caption: 'a photo' } })
  const imageEvent = await one(image.id)
  t.match(imageEvent, { type: 'image', text: 'a photo', media: { mimetype: 'image/png', size: photo.length, mediaUrl: `/api/whatsapp/messages/${image.id}/media?clientId=${CLIENT_ID}` } })
  const download = await app.inject({ method: 'GET', url: imageEvent.media.mediaUrl })
  t.equal(download.statusCode, 200, 'the event\'s mediaUrl downloads the image')
  t.same(download.rawPayload, photo)

  const edit = await fake.contactSendMessage(BOB.pn, {
    protocolMessage: { type: proto.Message.ProtocolMessage.Type.MESSAGE_EDIT, key: { remoteJid: BOB_JID, fromMe: true, id: reply.id }, editedMessage: { conversation: 'replying, edited' } },
  })
  t.match(await one(edit.id), { type: 'edit', text: 'replying, edited', edit: { targetId: reply.id, text: 'replying, edited' } })

  const revoke = await fake.contactSendMessage(BOB.pn, { protocolMessage: { type: proto.Message.ProtocolMessage.Type.REVOKE, key: { remoteJid: BOB_JID, fromMe: true, id: text.id } } })
  t.match(await one(revoke.id), { type: 'revoke', revoke: { targetId: text.id } })

  const pollMessage = await fake.contactSendMessage(BOB.pn, {
    pollCreationMessageV3: { name: 'Lunch?', options: [{ optionName: 'Pizza' }, { optionName: 'Sushi' }], selectableOptionsCount: 1 },
    messageContextInfo: { messageSecret: Buffer.alloc(32, 7) },
  })
  t.match(await one(pollMessage.id), { type: 'poll', text: 'Lunch?', poll: { name: 'Lunch?', options: ['Pizza', 'Sushi'], selectableCount: 1 } })

  const vcard = 'BEGIN:VCARD\nVERSION:3.0\nFN:Ada Lovelace\nTEL;type=CELL;waid=442079460000:+44 20 7946 0000\nEND:VCARD'
  const card = await fake.contactSendMessage(BOB.pn, { contactMessage: { displayName: 'Ada Lovelace', vcard } })
  t.match(await one(card.id), { type: 'contact', contacts: [{ displayName: 'Ada Lovelace', vcard }] })

  const location = await fake.contactSendMessage(BOB.pn, { locationMessage: { degreesLatitude: 52.52, degreesLongitude: 13.405, name: 'Office', address: 'Berlin' } })
  t.match(await one(location.id), { type: 'location', location: { latitude: 52.52, longitude: 13.405, name: 'Office', address: 'Berlin', live: false } })

  // A message sent through the API: sent (server ack), delivered (the fake's receipt), read.
  const sent = await send(app, BOB.pn, 'hi Bob')
  t.equal(sent.status, 200)
  const id = sent.body.messageId as string
  await fake.waitFor(() => fake.received().find((m) => m.id === id), 15_000)
  fake.contactReceipt(BOB.pn, id, 'read')
  let seen: unknown[] = []
  const statuses = await poll('sent, delivered and read', async () => {
    const s = (await allEvents(app)).filter((e) => e.type === 'message.status' && e.data.messageId === id).map((e) => e.data.status)
    seen = s
    return ['sent', 'delivered', 'read'].every((x) => s.includes(x)) ? s : undefined
  }).catch(async (err: unknown) => {
    // Says which status events did arrive, and what the stored message says, before failing.
    const stored = await app.inject({ method: 'GET', url: `/api/whatsapp/messages/${id}` })
    t.comment(`status events seen: [${seen.join(', ')}]; GET /messages/:id: ${stored.statusCode} ${stored.body}`)
    throw err
  })
  t.same(statuses, ['sent', 'delivered', 'read'], 'each status once, in order')
  t.match((await allEvents(app)).find((e) => e.type === 'message.status' && e.data.messageId === id)?.data, { chat: BOB_JID, recipient: BOB_JID })
  t.notOk((await allEvents(app)).some((e) => e.type === 'message.received' && e.data.id === id), 'a message sent through the API is no received message')

  const events = await allEvents(app)
  t.same(events.map((e) => e.seq), events.map((_, i) => i + 1), 'seq from 1 without gaps')
  t.equal(new Set(events.map((e) => e.id)).size, events.length, 'distinct ids')

  // The live stream from the start returns the same events as GET /events.
  await app.listen({ port: 0, host: '127.0.0.1' })
  const res = await fetch(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/api/whatsapp/events/stream?after=0`)
  const stream = sseReader(res)
  const frames = eventFrames(await stream.read((f) => eventFrames(f).length >= events.length))
  t.same(frames.slice(0, events.length).map((f) => JSON.parse(f.data!)), events, 'the SSE stream replays the same events')
  t.same(frames.slice(0, events.length).map((f) => [Number(f.id), f.event]), events.map((e) => [e.seq, e.type]), 'id: seq, event: type')
  const later = await fake.contactSend(BOB.pn, 'while streaming')
  const live = eventFrames(await stream.read((f) => eventFrames(f).some((x) => JSON.parse(x.data!).data.id === later.id)))
  t.ok(live.some((f) => f.event === 'message.received' && JSON.parse(f.data!).data.text === 'while streaming'), 'then live')
  await stream.cancel()
  t.same(fake.errors().decrypt, [], 'the fake decrypted everything')
})

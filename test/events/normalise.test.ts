// Baileys messages (real proto objects, as decoded from the wire) to event bodies: every type, the
// wrappers, addresses with and without the phone number, and what is no event at all.
import t from 'tap'
import { proto, type WAMessage } from '@whiskeysockets/baileys'
import { messageReceived, messageStatus, sessionQr, sessionStatus, statusOf } from '../../src/events/normalise.js'
import { newEventId, EVENT_ID_PATTERN } from '../../src/events/ids.js'

const BOB = '15550002222@s.whatsapp.net'
const BOB_LID = '200000000000002@lid'
const T = proto.Message.ProtocolMessage.Type

const wa = (message: Record<string, unknown>, key: Partial<WAMessage['key']> = {}): WAMessage => ({
  key: { remoteJid: BOB, fromMe: false, id: 'MSG1', ...key },
  message: proto.Message.fromObject(message),
  messageTimestamp: 1_700_000_000,
  pushName: 'Bob',
})
const data = (message: Record<string, unknown>, key?: Partial<WAMessage['key']>) => messageReceived('c1', wa(message, key))?.data

t.test('text, reply, addresses, timestamp, dedupe key', async (t) => {
  const event = messageReceived('c1', wa({ conversation: 'hello' }))
  t.same(event, {
    type: 'message.received',
    timestamp: '2023-11-14T22:13:20.000Z',
    dedupeKey: `message.received:${BOB}:MSG1`,
    data: {
      id: 'MSG1', chat: { jid: BOB, phone: '+15550002222' }, sender: { jid: BOB, phone: '+15550002222' }, group: null,
      fromMe: false, pushName: 'Bob', timestamp: '2023-11-14T22:13:20.000Z', type: 'text', text: 'hello', quoted: null, media: null,
    },
  })
  t.match(data({ extendedTextMessage: { text: 'a link https://x.y' } }), { type: 'text', text: 'a link https://x.y', quoted: null })
  t.match(data({ extendedTextMessage: { text: 'yes', contextInfo: { stanzaId: 'Q1', participant: BOB, quotedMessage: { conversation: 'q?' } } } }), {
    type: 'reply', text: 'yes', quoted: { id: 'Q1', participant: BOB },
  })
  t.match(data({ conversation: 'via lid' }, { remoteJid: BOB_LID, remoteJidAlt: BOB }), { chat: { jid: BOB_LID, phone: '+15550002222' } }, 'phone from remoteJidAlt')
  t.match(data({ conversation: 'lid only' }, { remoteJid: BOB_LID }), { chat: { jid: BOB_LID, phone: null }, sender: { jid: BOB_LID, phone: null } })
  t.match(data({ conversation: 'mine' }, { fromMe: true }), { fromMe: true, sender: null })
  t.match(data({ conversation: 'in a group' }, { remoteJid: '1203630@g.us', participant: BOB_LID, participantAlt: BOB }), {
    chat: { jid: '1203630@g.us', phone: null }, sender: { jid: BOB_LID, phone: '+15550002222' }, group: { jid: '1203630@g.us', participant: BOB_LID },
  })
})

t.test('media: metadata and the download link; wrappers unwrapped', async (t) => {
  const image = { mimetype: 'image/png', fileLength: 1234, caption: 'cat', url: 'https://mmg.whatsapp.net/x', mediaKey: Buffer.alloc(32) }
  t.same(data({ imageMessage: image })?.media, { mimetype: 'image/png', size: 1234, fileName: null, seconds: null, mediaUrl: '/api/whatsapp/messages/MSG1/media?clientId=c1' })
  t.match(data({ imageMessage: image }), { type: 'image', text: 'cat' })
  t.match(data({ viewOnceMessageV2: { message: { imageMessage: image } } }), { type: 'image', text: 'cat' }, 'view once')
  t.match(data({ ephemeralMessage: { message: { conversation: 'vanishing' } } }), { type: 'text', text: 'vanishing' }, 'ephemeral')
  t.match(data({ videoMessage: { mimetype: 'video/mp4', seconds: 7, fileLength: 99 } }), { type: 'video', media: { seconds: 7, size: 99 } })
  t.match(data({ audioMessage: { mimetype: 'audio/mpeg', seconds: 3 } }), { type: 'audio', media: { mimetype: 'audio/mpeg', seconds: 3 } })
  t.match(data({ audioMessage: { mimetype: 'audio/ogg; codecs=opus', ptt: true } }), { type: 'voice' })
  t.match(data({ documentWithCaptionMessage: { message: { documentMessage: { mimetype: 'application/pdf', fileName: 'a.pdf', caption: 'invoice' } } } }), {
    type: 'document', text: 'invoice', media: { fileName: 'a.pdf', mimetype: 'application/pdf' },
  })
  t.match(data({ stickerMessage: { mimetype: 'image/webp' } }), { type: 'sticker', media: { mimetype: 'image/webp' } })
  t.match(data({ imageMessage: { ...image, contextInfo: { stanzaId: 'Q2', quotedMessage: { conversation: 'x' } } } }), { type: 'image', quoted: { id: 'Q2', participant: null } }, 'media replies keep their type')
  t.equal(data({ imageMessage: image }, { id: 'a/b' })?.media && (data({ imageMessage: image }, { id: 'a/b' })?.media as { mediaUrl: string }).mediaUrl, '/api/whatsapp/messages/a%2Fb/media?clientId=c1')
})

t.test('location, contact, reaction, edit, revoke, poll, unknown', async (t) => {
  t.match(data({ locationMessage: { degreesLatitude: 52.52, degreesLongitude: 13.405, name: 'Office', address: 'Berlin' } }), {
    type: 'location', location: { latitude: 52.52, longitude: 13.405, name: 'Office', address: 'Berlin', live: false },
  })
  t.match(data({ contactMessage: { displayName: 'Ada', vcard: 'BEGIN:VCARD\nFN:Ada\nEND:VCARD' } }), { type: 'contact', contacts: [{ displayName: 'Ada', vcard: /FN:Ada/ }] })
  t.match(data({ contactsArrayMessage: { contacts: [{ displayName: 'A' }, { displayName: 'B' }] } }), { type: 'contact', contacts: [{ displayName: 'A' }, { displayName: 'B' }] })
  t.match(data({ reactionMessage: { key: { id: 'TARGET', remoteJid: BOB }, text: '👍' } }), { type: 'reaction', reaction: { emoji: '👍', targetId: 'TARGET' } })
  t.match(data({ reactionMessage: { key: { id: 'TARGET' }, text: '' } }), { reaction: { emoji: '' } }, 'a removed reaction')
  t.match(data({ protocolMessage: { type: T.MESSAGE_EDIT, key: { id: 'OLD' }, editedMessage: { conversation: 'fixed' } } }), { type: 'edit', text: 'fixed', edit: { targetId: 'OLD', text: 'fixed' } })
  t.match(data({ editedMessage: { message: { protocolMessage: { type: T.MESSAGE_EDIT, key: { id: 'OLD' }, editedMessage: { extendedTextMessage: { text: 'v2' } } } } } }), { type: 'edit', edit: { targetId: 'OLD', text: 'v2' } }, 'edit in its wrapper')
  t.match(data({ protocolMessage: { type: T.REVOKE, key: { id: 'GONE' } } }), { type: 'revoke', revoke: { targetId: 'GONE' } })
  t.match(data({ pollCreationMessageV3: { name: 'Lunch?', options: [{ optionName: 'Pizza' }, { optionName: 'Sushi' }], selectableOptionsCount: 1 } }), {
    type: 'poll', text: 'Lunch?', poll: { name: 'Lunch?', options: ['Pizza', 'Sushi'], selectableCount: 1 },
  })
  t.match(data({ pollCreationMessage: { name: 'Old poll', options: [{ optionName: 'a' }] } }), { type: 'poll', poll: { options: ['a'] } })
  t.match(data({ pollUpdateMessage: { pollCreationMessageKey: { id: 'POLL' } } }), { type: 'poll', pollVote: { targetId: 'POLL' } })
  t.match(data({ buttonsResponseMessage: { selectedButtonId: 'b1' } }), { type: 'unknown', kind: 'buttonsResponseMessage' })
  t.match(data({ deviceSentMessage: { destinationJid: BOB, message: { conversation: 'from my phone' } } }, { fromMe: true }), { type: 'text', text: 'from my phone' })
})

t.test('no event: protocol traffic, status updates, undecrypted stubs', async (t) => {
  t.equal(messageReceived('c1', wa({ protocolMessage: { type: T.HISTORY_SYNC_NOTIFICATION } })), null, 'history sync notice')
  t.equal(messageReceived('c1', wa({ protocolMessage: { type: T.APP_STATE_SYNC_KEY_SHARE } })), null, 'key share')
  t.equal(messageReceived('c1', wa({ senderKeyDistributionMessage: { groupId: 'g' } })), null, 'sender key distribution only')
  t.equal(messageReceived('c1', wa({ senderKeyDistributionMessage: { groupId: 'g' }, messageContextInfo: {} })), null)
  t.equal(messageReceived('c1', wa({ conversation: 'my story' }, { remoteJid: 'status@broadcast' })), null, 'status@broadcast')
  t.equal(messageReceived('c1', { key: { remoteJid: BOB, id: 'X' }, messageStubType: 2 }), null, 'no content (not decrypted)')
  t.match(messageReceived('c1', wa({ senderKeyDistributionMessage: { groupId: 'g' }, conversation: 'hi all' })), { data: { type: 'text', text: 'hi all' } }, 'with a key distribution attached')
})

t.test('message.status, session.status, session.qr, ids', async (t) => {
  const S = proto.WebMessageInfo.Status
  t.same([S.ERROR, S.PENDING, S.SERVER_ACK, S.DELIVERY_ACK, S.READ, S.PLAYED].map(statusOf), ['failed', null, 'sent', 'delivered', 'read', 'played'])
  const at = new Date('2025-01-01T00:00:00.000Z')
  t.same(messageStatus({ messageId: 'M', chat: BOB, recipient: BOB, status: 'read', at }), {
    type: 'message.status', timestamp: '2025-01-01T00:00:00.000Z',
    data: { messageId: 'M', chat: BOB, recipient: BOB, status: 'read', reason: null },
    dedupeKey: `message.status:${BOB}:M:${BOB}:read`,
  })
  t.same(sessionStatus({ state: 'open', prev: 'connecting', reason: null, code: null }, at).data, { state: 'open', previous: 'connecting', reason: null, code: null })
  t.same(sessionQr({ value: '2@abc', expiresAt: new Date('2025-01-01T00:01:00.000Z') }, at).data, { qr: '2@abc', expiresAt: '2025-01-01T00:01:00.000Z' })
  const a = newEventId(1_700_000_000_000)
  const b = newEventId(1_700_000_000_001)
  t.match(a, new RegExp(EVENT_ID_PATTERN))
  t.equal(a.length, 30)
  t.ok(a < b, 'time-sortable')
  t.not(newEventId(5), newEventId(5), 'random part')
  t.equal(newEventId(0, Buffer.alloc(10)), `evt_${'0'.repeat(26)}`)
})

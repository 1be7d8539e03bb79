// The producer over a real (file) outbox, fed the way the sessions report: a received message is
// stored before beforeReceipt resolves and once even when messages.upsert reports it again; messages
// sent through the API are statuses, not received messages; statuses come in order and once; state
// changes and QR codes keep their order; standby (the lease went elsewhere) is not this instance's to
// report; an outbox that fails makes beforeReceipt throw.
import t from 'tap'
import { join } from 'node:path'
import { proto, type WAMessage } from '@whiskeysockets/baileys'
import { createEventProducer } from '../../src/events/producer.js'
import { createFileOutbox } from '../../src/events/store/file.js'
import { tempDir } from '../app/helpers.js'

const BOB = '15550002222@s.whatsapp.net'
const S = proto.WebMessageInfo.Status
const incoming = (id: string, text: string): WAMessage => ({ key: { remoteJid: BOB, fromMe: false, id }, message: proto.Message.fromObject({ conversation: text }), messageTimestamp: 1_700_000_000 })

t.test('received, statuses, states and QR in order, each once', async (t) => {
  const outbox = createFileOutbox({ dir: join(await tempDir(t), '.events') })
  t.teardown(() => outbox.close())
  const warnings: unknown[] = []
  const producer = createEventProducer({ outbox, log: { warn: (...args: unknown[]) => { warnings.push(args) } }, now: () => new Date('2025-01-01T00:00:00.000Z') })
  const o = producer.observer

  await o.beforeReceipt!('c', incoming('M1', 'hello'), { offline: false })
  t.same((await outbox.after('c', 0, 10)).map((e) => e.data.text), ['hello'], 'durable when beforeReceipt resolves')
  o.onMessages!('c', { type: 'notify', messages: [incoming('M1', 'hello'), incoming('M2', 'not seen before the receipt')] })
  o.onMessages!('c', { type: 'append', messages: [{ key: { remoteJid: BOB, fromMe: true, id: 'OUT1' }, message: { conversation: 'sent by the API' }, status: S.PENDING }] })
  o.onMessageUpdates!('c', [{ key: { remoteJid: BOB, fromMe: true, id: 'OUT1' }, update: { status: S.DELIVERY_ACK } }])
  o.onMessageUpdates!('c', [{ key: { remoteJid: BOB, fromMe: true, id: 'OUT1' }, update: { status: S.SERVER_ACK } }])
  o.onMessageUpdates!('c', [{ key: { remoteJid: BOB, fromMe: false, id: 'M1' }, update: { status: S.READ } }])
  o.onReceipts!('c', [{ key: { remoteJid: '1203@g.us', fromMe: true, id: 'G1' }, receipt: { userJid: BOB, readTimestamp: 1_700_000_100 } }])
  o.onMessageUpdates!('c', [{ key: { remoteJid: BOB, fromMe: true, id: 'OUT2' }, update: { status: S.ERROR, messageStubParameters: ['479'] } }])
  o.onState!('c', { state: 'reconnecting', prev: 'open', reason: 'Connection Lost', code: 408 })
  o.onState!('c', { state: 'standby', prev: 'reconnecting', reason: 'lease lost', code: null })
  o.onQr!('c', { value: '2@qr', expiresAt: new Date('2025-01-01T00:01:00.000Z') })
  await producer.drain()

  const events = await outbox.after('c', 0, 100)
  t.same(events.map((e) => e.seq), events.map((_, i) => i + 1))
  t.same(events.map((e) => [e.type, e.data.text ?? e.data.status ?? e.data.state ?? e.data.qr]), [
    ['message.received', 'hello'],
    ['message.received', 'not seen before the receipt'],
    ['message.status', 'sent'],
    ['message.status', 'delivered'],
    ['message.status', 'delivered'],
    ['message.status', 'read'],
    ['message.status', 'failed'],
    ['session.status', 'reconnecting'],
    ['session.qr', '2@qr'],
  ], 'M1 once; the API send only as statuses, implied sent first; the late server ack adds nothing; incoming reads are no status; a group member from delivered; standby skipped')
  t.match(events[4]!.data, { messageId: 'G1', chat: '1203@g.us', recipient: BOB })
  t.match(events[6]!.data, { messageId: 'OUT2', reason: /479/ })
  t.match(events[7]!.data, { previous: 'open', reason: 'Connection Lost', code: 408 })
  t.same(warnings, [])
})

t.test('an outbox that fails: beforeReceipt throws (the message is nacked); notifications log it', async (t) => {
  const outbox = createFileOutbox({ dir: join(await tempDir(t), '.events') })
  await outbox.close()
  const warnings: unknown[] = []
  const producer = createEventProducer({ outbox, log: { warn: (...args: unknown[]) => { warnings.push(args) } } })
  await t.rejects(producer.observer.beforeReceipt!('c', incoming('M1', 'hi'), { offline: true }), /closed/)
  producer.observer.onQr!('c', { value: 'SECRET-QR-VALUE', expiresAt: new Date() })
  await producer.drain()
  t.equal(warnings.length, 1, 'logged once')
  t.notMatch(JSON.stringify(warnings), /SECRET-QR-VALUE/, 'without the events\' contents')
  await producer.observer.beforeReceipt!('c', { key: { remoteJid: 'status@broadcast', id: 'S1' }, message: { conversation: 'story' } }, { offline: false })
  t.pass('no event, nothing to store: no throw')
})

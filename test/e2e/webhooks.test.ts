// Webhooks end to end: the real Baileys against the fake WhatsApp, WEBHOOK_URL at a local consumer.
// A contact sends a text, a reply and a reaction while the consumer answers 500; once it answers 200
// every event arrives once as a 2xx delivery, in seq order, with the ids it had during the outage,
// verified by standardwebhooks, typed. The inbound->webhook time is printed
// (informational: timings belong in bench:events).
import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { startConsumer, type Received } from '../helpers/webhook-consumer.js'
import { SECRET } from '../helpers/webhook-worker.js'
import { BOB, pairByQr, poll, prepareProcess, startApp, startFake, tempDir } from './harness.js'

prepareProcess()

interface Body { id: string; type: string; seq: number; clientId: string; data: Record<string, any> }

t.test('inbound messages reach the webhook once each, in order, through a consumer outage', async (t) => {
  let down = false
  const status = new Map<Received, number>()
  const consumer = await startConsumer((r) => {
    const s = down ? 500 : 204
    status.set(r, s)
    return s
  })
  t.teardown(consumer.close)
  const fake = await startFake(t)
  fake.addContact(BOB)
  const { app } = await startApp(t, {
    fake,
    sessionPath: await tempDir(t),
    env: { WEBHOOK_URL: consumer.url, WEBHOOK_SECRET: SECRET },
  })
  await pairByQr(app, fake)
  const wh = new Webhook(SECRET)
  const ok = () => consumer.received.filter((r) => (status.get(r) ?? 0) < 300).map((r) => wh.verify(r.body, r.headers as Record<string, string>) as Body)

  // The consumer is up: one text, timed from the contact's send to the webhook.
  const sentAt = performance.now()
  const first = await fake.contactSend(BOB.pn, 'hello')
  const firstEvent = await poll('first message on the webhook', async () => ok().find((b) => b.type === 'message.received' && b.data.id === first.id))
  t.comment(`inbound -> webhook: ${(consumer.received.find((r) => r.headers['webhook-id'] === firstEvent.id)!.at - sentAt).toFixed(1)} ms`)

  down = true
  const text = await fake.contactSend(BOB.pn, 'while you were down')
  const reply = await fake.contactSendMessage(BOB.pn, {
    extendedTextMessage: { text: 'replying', contextInfo: { stanzaId: text.id, participant: `${BOB.pn}@s.whatsapp.net`, quotedMessage: { conversation: 'while you were down' } } },
  })
  const reaction = await fake.contactSendMessage(BOB.pn, { reactionMessage: { key: { remoteJid: `${BOB.pn}@s.whatsapp.net`, fromMe: true, id: text.id }, text: '👍', senderTimestampMs: Date.now() } })
  await poll('the consumer refused an event', async () => [...status.values()].includes(500))
  const refusedIds = new Set(consumer.received.filter((r) => status.get(r) === 500).map((r) => r.headers['webhook-id']))
  down = false
  const wanted = [text.id, reply.id, reaction.id]
  await poll('all three delivered', async () => wanted.every((id) => ok().some((b) => b.data.id === id)), 60_000)

  const delivered = ok()
  const seqs = delivered.map((b) => b.seq)
  t.same(seqs, [...new Set(seqs)].sort((a, b) => a - b), 'each event delivered once, in seq order, no gap skipped')
  t.same(seqs, Array.from({ length: seqs.length }, (_, i) => seqs[0] + i), 'a continuous sequence')
  for (const id of refusedIds) t.ok(delivered.some((b) => b.id === id), 'an event refused during the outage arrived later with the same id')
  t.match(delivered.find((b) => b.data.id === text.id)!.data, { type: 'text', text: 'while you were down' })
  t.match(delivered.find((b) => b.data.id === reply.id)!.data, { type: 'reply', quoted: { id: text.id } })
  t.match(delivered.find((b) => b.data.id === reaction.id)!.data, { type: 'reaction', reaction: { emoji: '👍', targetId: text.id } })
})

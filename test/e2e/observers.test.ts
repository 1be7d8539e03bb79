// Session observers end to end: state changes (with their reason), the QR, and the status updates of
// a sent message (delivered, then read) reach every observer registered on the manager. While Baileys
// holds its events in a buffer (the first minutes after a login), a status arrives merged into the
// messages.upsert of the sent message instead of a messages.update: observers must read both.
import t from 'tap'
import { proto, type WAMessageUpdate } from '@whiskeysockets/baileys'
import type { StateChange } from '../../src/whatsapp/observers.js'
import { BOB, pairByQr, poll, prepareProcess, send, startApp, startFake, tempDir } from './harness.js'

prepareProcess()

t.test('observers see states, the QR and message status updates', async (t) => {
  const fake = await startFake(t)
  fake.addContact(BOB)
  const { app } = await startApp(t, { fake, sessionPath: await tempDir(t) })
  const states: StateChange[] = []
  const qrs: string[] = []
  const updates: WAMessageUpdate[] = []
  const ownUpserts: Array<{ id: string; status: number }> = []
  app.sessions.observe({
    onState: (clientId, change) => { if (clientId === 'e2e') states.push(change) },
    onQr: (_clientId, qr) => { qrs.push(qr.value) },
    onMessageUpdates: (_clientId, u) => { updates.push(...u) },
    onMessages: (_clientId, { messages }) => {
      for (const m of messages) if (m.key.fromMe && m.key.id && m.status != null) ownUpserts.push({ id: m.key.id, status: m.status })
    },
  })
  const { qr } = await pairByQr(app, fake)
  t.ok(qrs.includes(qr.qr), 'the QR the API showed reached the observer')
  t.ok(states.some((s) => s.state === 'open'), 'open reported')

  const sent = await send(app, BOB.pn, 'status please')
  t.equal(sent.status, 200)
  const id = sent.body.messageId as string
  const statusOf = () => [
    ...ownUpserts.filter((u) => u.id === id).map((u) => u.status),
    ...updates.filter((u) => u.key.id === id).map((u) => u.update.status).filter((s) => s != null),
  ]
  await poll('delivered', () => statusOf().includes(proto.WebMessageInfo.Status.DELIVERY_ACK))
  fake.contactReceipt(BOB.pn, id, 'read')
  await poll('read', () => statusOf().includes(proto.WebMessageInfo.Status.READ))
  t.pass('delivered then read reported for the sent message')

  fake.dropConnection()
  await poll('reconnecting with a reason', () => states.find((s) => s.state === 'reconnecting' && s.code === 428))
  const reconnecting = states.find((s) => s.state === 'reconnecting')
  t.equal(reconnecting?.prev, 'open')
  t.type(reconnecting?.reason, 'string', 'the close reason travels with the state')
})

// Groups end to end. Sending through POST /send: members decrypt text and media (sender keys), a reply and a
// reaction in the group, and the message's status from the members' receipts. Receiving: a member's
// message decrypted by the app (the fake's groups: test/fake-whatsapp/groups.ts).
import t from 'tap'
import { png } from '../helpers/media-fixtures.js'
import { BOB, pairByQr, poll, prepareProcess, startApp, startFake, tempDir } from './harness.js'
import { messageStatus, routeMedia, sendJson } from './messages-harness.js'

prepareProcess()

const CAROL = { pn: '15550003333', lid: '300000000000003', name: 'Carol' } as const

t.test('messages to a group', async (t) => {
  const fake = await startFake(t)
  routeMedia(fake)
  fake.addContact(BOB)
  fake.addContact(CAROL)
  const group = fake.addGroup({ subject: 'Team', participants: [BOB.pn, CAROL.pn] })
  const { app } = await startApp(t, { fake, sessionPath: await tempDir(t), env: { SEND_RATE_LIMIT_MAX: '1000' } })
  await pairByQr(app, fake)
  const inGroup = (id: string) => fake.waitFor(() => fake.received().find((m) => m.to === group.jid && m.id === id), 15_000)

  const text = await sendJson(app, { to: group.jid, text: 'hello team' })
  t.equal(text.status, 200, JSON.stringify(text.body))
  t.equal(text.body.to, group.jid)
  t.equal((await inGroup(text.body.messageId as string)).text, 'hello team', 'the members decrypt it')

  const image = png(8, 8)
  const pic = await sendJson(app, { to: group.jid, type: 'image', media: { base64: image.toString('base64') }, caption: 'for the team' })
  t.equal(pic.status, 200, JSON.stringify(pic.body))
  await inGroup(pic.body.messageId as string)
  t.equal(fake.media.uploads.length, 1, 'uploaded once for the whole group')

  const reply = await sendJson(app, { to: group.jid, text: 'and a reply', quotedMessageId: text.body.messageId })
  t.equal(reply.status, 200)
  await inGroup(reply.body.messageId as string)
  const react = await sendJson(app, { type: 'reaction', messageId: text.body.messageId, emoji: '🎉' })
  t.equal(react.status, 200)
  t.equal(react.body.to, group.jid, 'the reaction goes to the group of its message')
  await fake.waitFor(() => fake.received().find((m) => m.to === group.jid && m.id === react.body.messageId) ?? fake.errors().decrypt.find((e) => e.id === react.body.messageId), 15_000)

  // Receipts of the members (merged into the sent message's upsert while Baileys buffers, or as receipts).
  await poll('delivered to the group', async () => (await messageStatus(app, text.body.messageId as string)).body.status === 'delivered', 45_000)
  t.pass('the group message shows delivered')
  t.same(fake.errors().decrypt, [])
})

for (const addressingMode of ['pn', 'lid'] as const) t.test(`a member writes to a ${addressingMode}-addressed group: the app decrypts it (sender key, then skmsg)`, async (t) => {
  const fake = await startFake(t)
  fake.addContact(BOB)
  fake.addContact(CAROL)
  const group = fake.addGroup({ subject: 'Team', participants: [BOB.pn, CAROL.pn], addressingMode })
  /** How the group names a member: key.participant. */
  const wire = (m: { pn: string; lid: string }) => (addressingMode === 'lid' ? `${m.lid}@lid` : `${m.pn}@s.whatsapp.net`)
  const { app } = await startApp(t, { fake, sessionPath: await tempDir(t) })
  const seen: Array<{ id: string; remoteJid: string; participant: string; text: string; offline: boolean }> = []
  app.sessions.observe({
    async beforeReceipt(_clientId, m, info) {
      seen.push({
        id: m.key.id ?? '',
        remoteJid: m.key.remoteJid ?? '',
        participant: m.key.participant ?? '',
        text: m.message?.conversation ?? m.message?.extendedTextMessage?.text ?? '',
        offline: info.offline,
      })
    },
  })
  await pairByQr(app, fake)
  const sent = [
    await fake.contactSendGroupMessage(BOB.pn, group.jid, 'hi team, bob here'),
    await fake.contactSendGroupMessage(BOB.pn, group.jid, 'bob again'),
    await fake.contactSendGroupMessage(CAROL.pn, group.jid, { extendedTextMessage: { text: 'carol too' } }),
  ]
  t.same(sent.map((s) => s.type), ['skmsg', 'skmsg', 'skmsg'])
  await poll('the three group messages', () => seen.length >= 3)
  t.same(seen, [
    { id: sent[0]?.id, remoteJid: group.jid, participant: wire(BOB), text: 'hi team, bob here', offline: false },
    { id: sent[1]?.id, remoteJid: group.jid, participant: wire(BOB), text: 'bob again', offline: false },
    { id: sent[2]?.id, remoteJid: group.jid, participant: wire(CAROL), text: 'carol too', offline: false },
  ], 'key.remoteJid is the group, key.participant the member')
  await poll('receipts to the group', () => sent.every((s) => fake.receipts().some((r) => r.id === s.id && r.to === group.jid)))
  t.pass('the app receipted each to the group')
  t.same(fake.errors().decrypt, [])
})

// The offline backlog end to end: while the app is stopped a contact sends 100 messages (and two group
// messages); when the app starts again WhatsApp delivers them all at the login, marked offline, and
// the observers see every one: beforeReceipt with { offline: true } (then the receipt), and the
// messages.upsert of type 'append'.
import t from 'tap'
import type { WAMessage } from '@whiskeysockets/baileys'
import { BOB, pairByQr, poll, prepareProcess, startApp, startFake, tempDir, waitForState } from './harness.js'

prepareProcess()

const CAROL = { pn: '15550003333', lid: '300000000000003', name: 'Carol' } as const
const textOf = (m: WAMessage) => m.message?.conversation ?? m.message?.extendedTextMessage?.text ?? ''

t.test('100 messages sent while the app is stopped arrive when it starts, marked offline', async (t) => {
  const fake = await startFake(t)
  fake.addContact(BOB)
  fake.addContact(CAROL)
  const group = fake.addGroup({ subject: 'Team', participants: [BOB.pn, CAROL.pn] })
  const sessionPath = await tempDir(t)
  const first = await startApp(t, { fake, sessionPath })
  await pairByQr(first.app, fake)
  await first.close()
  await fake.waitFor(() => fake.liveConnections() === 0, 10_000)

  const sent: Array<{ id: string; text: string; type: string }> = []
  for (let i = 1; i <= 100; i++) {
    const text = `while you were away ${i}`
    sent.push({ ...(await fake.contactSend(BOB.pn, text)), text })
  }
  for (const [pn, text] of [[BOB.pn, 'group, from bob'], [CAROL.pn, 'group, from carol']] as const) {
    sent.push({ ...(await fake.contactSendGroupMessage(pn, group.jid, text)), text })
  }
  t.ok(sent.every((s) => s.type === 'queued'), 'queued, nobody is connected')
  t.equal(fake.backlog(), 102, 'the fake keeps them for the next login')

  // Logins wait until the observer is registered, so it sees the first stanza.
  const release = fake.holdLogins()
  const second = await startApp(t, { fake, sessionPath })
  const stored: Array<{ id: string; text: string; offline: boolean; remoteJid: string; participant: string | null }> = []
  const upserts = new Map<string, { type: string; text: string }>()
  second.app.sessions.observe({
    async beforeReceipt(_clientId, m, info) {
      stored.push({ id: m.key.id ?? '', text: textOf(m), offline: info.offline, remoteJid: m.key.remoteJid ?? '', participant: m.key.participant ?? null })
    },
    onMessages(_clientId, { messages, type }) {
      for (const m of messages) if (!m.key.fromMe && m.key.id) upserts.set(m.key.id, { type, text: textOf(m) })
    },
  })
  release()
  await waitForState(second.app, 'open')
  t.equal(fake.backlog(), 0, 'delivered at the login')

  await poll('beforeReceipt for all 102', () => stored.length >= 102, 60_000)
  t.same(stored.map((s) => s.text), sent.map((s) => s.text), 'every message, in the order sent')
  t.same(stored.map((s) => s.id), sent.map((s) => s.id), 'with the ids the contacts sent')
  t.ok(stored.every((s) => s.offline), 'beforeReceipt says offline for each')
  t.same(stored.slice(100).map((s) => [s.remoteJid, s.participant]), [
    [group.jid, `${BOB.pn}@s.whatsapp.net`],
    [group.jid, `${CAROL.pn}@s.whatsapp.net`],
  ], 'the group messages come from the group, with their sender')
  await poll('a receipt for every one', () => sent.every((s) => fake.receipts().some((r) => r.id === s.id)), 30_000)
  t.pass('the app receipted all 102')

  // Baileys holds upserts after the backlog while it waits for a history sync (the fake sends none);
  // a live message flushes them, as on WhatsApp.
  const live = await fake.contactSend(BOB.pn, 'and now live')
  await poll('the upserts', () => sent.every((s) => upserts.has(s.id)) && upserts.has(live.id), 30_000)
  t.ok(sent.every((s) => upserts.get(s.id)?.type === 'append'), "the offline ones are upserted as 'append'")
  t.same(upserts.get(live.id), { type: 'notify', text: 'and now live' })
  t.same(fake.errors().decrypt, [])
})

t.test('redeliverUnreceipted: the network drops in the middle of the backlog, the rest comes at the reconnect', async (t) => {
  const fake = await startFake(t, { redeliverUnreceipted: true })
  fake.addContact(BOB)
  const sessionPath = await tempDir(t)
  const first = await startApp(t, { fake, sessionPath })
  await pairByQr(first.app, fake)
  await first.close()
  await fake.waitFor(() => fake.liveConnections() === 0, 10_000)
  const sent: string[] = []
  for (let i = 1; i <= 100; i++) sent.push((await fake.contactSend(BOB.pn, `backlog ${i}`)).id)

  const release = fake.holdLogins()
  const second = await startApp(t, { fake, sessionPath })
  const stored: Array<{ id: string; login: number }> = []
  second.app.sessions.observe({
    async beforeReceipt(_clientId, m) {
      stored.push({ id: m.key.id ?? '', login: fake.connectionAttempts() })
      // The first one's receipt never reaches WhatsApp: the connection is gone.
      if (stored.length === 1) fake.dropConnection()
    },
  })
  const loginBefore = fake.connectionAttempts()
  release()
  await poll('every message stored', () => new Set(stored.map((s) => s.id)).size === 100, 60_000)
  t.ok(stored.some((s) => s.login > loginBefore + 1), 'some arrived only after the reconnect')
  t.same(stored.map((s) => s.id).sort(), [...sent].sort(), 'each of the 100 stored exactly once')
  // What the client had decrypted before the drop comes again too, but Baileys' keys for it are used
  // up: it nacks it with 487 and the fake drops it (the app never sees it twice).
  await poll('all settled', () => fake.unreceipted().length === 0, 30_000)
  t.pass('nothing left to redeliver')
  t.same(fake.errors().decrypt, [])
})

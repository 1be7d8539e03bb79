// Groups on the fake against the real Baileys client: the metadata query, contacts writing to the
// group (sender key distribution, then skmsg) and Baileys decrypting it as a group message, and
// Baileys writing to the group (usync, sender keys, skmsg) with every member decrypting it.
import t from 'tap'
import { WA_CERT_DETAILS } from '@whiskeysockets/baileys'
import { FIXTURE_ROOT_PUBLIC_KEY, startFakeWhatsApp } from './index.js'
import { pairAndOpen, tempDir } from './test-helpers.js'
import { quietLibsignal } from './quiet.js'

quietLibsignal()
WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(FIXTURE_ROOT_PUBLIC_KEY)

const BOB = { pn: '15550002222', lid: '200000000000002', name: 'Bob' }
const CAROL = { pn: '15550003333', lid: '300000000000003', name: 'Carol' }
const jid = (pn: string) => `${pn}@s.whatsapp.net`

for (const addressingMode of ['pn', 'lid'] as const) t.test(`a group both ways, ${addressingMode} addressing`, async t => {
  const fake = await startFakeWhatsApp()
  t.teardown(() => fake.close())
  fake.addContact(BOB)
  fake.addContact(CAROL)
  /** How the group names a member on the wire. */
  const wire = (m: { pn: string; lid: string }) => (addressingMode === 'lid' ? `${m.lid}@lid` : jid(m.pn))
  const group = fake.addGroup({ subject: 'Team', participants: [BOB.pn, CAROL.pn], addressingMode })
  t.match(group, { jid: /^120363\d{12}@g\.us$/, subject: 'Team', account: fake.account.pn, participants: [BOB.pn, CAROL.pn], addressingMode })
  t.throws(() => fake.addGroup({ subject: 'x', participants: ['15559999999'] }), /unknown contact/)
  const client = await pairAndOpen(t, fake, await tempDir(t))

  const meta = await client.sock.groupMetadata(group.jid)
  t.match(meta, { id: group.jid, subject: 'Team', size: 3, owner: wire(fake.account), addressingMode })
  t.same(meta.participants.map(p => p.id).sort(), [wire(fake.account), wire(BOB), wire(CAROL)].sort())
  const all = await client.sock.groupFetchAllParticipating()
  t.same(Object.keys(all), [group.jid], 'the account lists its groups')
  await t.rejects(client.sock.groupMetadata('120363999999999999@g.us'), /item-not-found/)

  // Inbound: the first message carries Bob's sender key, the next ones are skmsg only.
  const groupTexts = () =>
    client.messages
      .filter(m => m.key.remoteJid === group.jid && !m.key.fromMe)
      .map(m => `${m.key.participant}: ${m.message?.conversation ?? m.message?.extendedTextMessage?.text ?? ''}`)
  const first = await fake.contactSendGroupMessage(BOB.pn, group.jid, 'hello team')
  t.equal(first.type, 'skmsg')
  await fake.waitFor(() => groupTexts().length === 1)
  await fake.contactSendGroupMessage(BOB.pn, group.jid, { extendedTextMessage: { text: 'second from bob' } })
  await fake.contactSendGroupMessage(CAROL.pn, group.jid, 'carol here')
  await fake.waitFor(() => groupTexts().length === 3, 10_000)
  t.same(groupTexts(), [`${wire(BOB)}: hello team`, `${wire(BOB)}: second from bob`, `${wire(CAROL)}: carol here`])
  const bobsFirst = client.messages.find(m => m.key.id === first.id)
  if (addressingMode === 'lid') t.equal(bobsFirst?.key.participantAlt, jid(BOB.pn), "the participant's phone number travels along")
  const receipt = await fake.waitFor(() => fake.receipts().find(r => r.id === first.id))
  t.match(receipt, { to: group.jid }, 'Baileys receipts it to the group')
  await t.rejects(fake.contactSendGroupMessage('15550004444', group.jid, 'x'), /unknown contact/)

  // Outbound: both members decrypt, twice (the second time without a new sender key).
  for (const text of ['from the companion', 'again']) {
    const sent = await client.sock.sendMessage(group.jid, { text })
    const id = sent?.key.id ?? ''
    const copies = await fake.waitFor(() => {
      const got = fake.received().filter(m => m.id === id)
      return got.length === 2 && got
    })
    t.same(copies.map(m => [m.member, m.to, m.text, m.type]).sort(), [
      [jid(BOB.pn), group.jid, text, 'skmsg'],
      [jid(CAROL.pn), group.jid, text, 'skmsg'],
    ], `both members decrypt "${text}"`)
    t.equal(copies[0]?.from, '15550001111:7@s.whatsapp.net')
    t.ok(await fake.waitFor(() => fake.deviceSent().find(m => m.id === id && m.text === text)), "the account's phone decrypts its copy")
  }
  t.same(fake.errors().decrypt, [])
  t.same(fake.errors().unhandledIqs.filter(k => k.startsWith('w:g2')), [])
})

t.test('groups over the HTTP control API', async t => {
  const fake = await startFakeWhatsApp()
  t.teardown(() => fake.close())
  fake.addContact(BOB)
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${fake.controlUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    return { status: res.status, json: (await res.json()) as unknown }
  }
  const created = await call('POST', '/groups', { subject: 'Over HTTP', participants: [BOB.pn] })
  t.match(created, { status: 201, json: { jid: /@g\.us$/, subject: 'Over HTTP', participants: [BOB.pn] } })
  t.match(await call('POST', '/groups', { subject: 'bad', participants: 'nope' }), { status: 400 })
  t.match(await call('GET', '/groups'), { status: 200, json: [{ subject: 'Over HTTP' }] })
  const groupJid = (created.json as { jid: string }).jid
  const client = await pairAndOpen(t, fake, await tempDir(t))
  const sent = await call('POST', `/groups/${encodeURIComponent(groupJid)}/send`, { from: BOB.pn, text: 'via http' })
  t.match(sent, { status: 200, json: { type: 'skmsg' } })
  await fake.waitFor(() => client.messages.find(m => m.key.remoteJid === groupJid && m.message?.conversation === 'via http'))
  client.end()
  await fake.waitFor(() => fake.liveConnections() === 0)
  t.match(await call('POST', `/groups/${groupJid}/send`, { from: BOB.pn, text: 'later' }), { json: { type: 'queued' } })
  t.match(await call('GET', '/state'), { json: { backlog: 1 } })
})

// The fake WhatsApp server against the real, unmodified Baileys client: pairing, login, pre-key
// upload, messages both ways (decrypted for real), restart from saved auth state, and the close
// codes the app must handle (drop, 440, 401).
import t from 'tap'
import { WA_CERT_DETAILS } from '@whiskeysockets/baileys'
import { enforceSignatureVerification } from '../../src/whatsapp/signature-verification.js'
import { FIXTURE_ROOT_PUBLIC_KEY, startFakeWhatsApp, type SentByContact } from './index.js'
import { connectClient } from './client.js'
import { openClient, pairAndOpen, tempDir, textsOf } from './test-helpers.js'
import { quietLibsignal } from './quiet.js'

quietLibsignal()
enforceSignatureVerification()
WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(FIXTURE_ROOT_PUBLIC_KEY)

const BOB = { pn: '15550002222', lid: '200000000000002', name: 'Bob' }
const BOB_JID = `${BOB.pn}@s.whatsapp.net`

t.test('pair, send, receive, restart from saved state', async t => {
  const fake = await startFakeWhatsApp()
  t.teardown(() => fake.close())
  fake.addContact(BOB)
  const dir = await tempDir(t)

  const client = await pairAndOpen(t, fake, dir)
  t.equal(client.sock.user?.id, '15550001111:7@s.whatsapp.net', 'open with the account JID')
  t.equal(client.sock.user?.lid, '100000000000001:7@lid')
  t.equal(fake.preKeyCount(), 812, '812 pre-keys uploaded')
  t.equal(fake.connectionAttempts(), 1, 'one login')
  t.same(fake.companion(), { deviceId: 7, jid: '15550001111:7@s.whatsapp.net', lid: '100000000000001:7@lid' })

  await client.sock.sendMessage(BOB_JID, { text: 'hello bob' })
  const got = await fake.waitFor(() => fake.received().find(m => m.text === 'hello bob'))
  t.match(got, { to: BOB_JID, from: '15550001111:7@s.whatsapp.net', type: 'pkmsg' }, 'the contact decrypted exactly the text')
  await fake.waitFor(() => fake.deviceSent().find(m => m.text === 'hello bob'))
  t.match(fake.deviceSent()[0], { to: BOB_JID }, "the phone's copy decrypts too (deviceSentMessage)")

  const reply = await fake.contactSend(BOB.pn, 'hi from bob')
  t.equal(reply.type, 'msg', 'the contact replies on the session our pkmsg started')
  await fake.waitFor(() => textsOf(client).includes('hi from bob'))
  await fake.waitFor(() => fake.receipts().find(r => r.id === reply.id))
  t.same(textsOf(client), ['hi from bob'], 'Baileys emitted messages.upsert with the text')

  await client.sock.sendMessage(BOB_JID, { text: 'second' })
  const second = await fake.waitFor(() => fake.received().find(m => m.text === 'second'))
  t.equal(second.type, 'msg', 'after the reply the session is established (msg)')

  client.end()
  const restarted = await openClient(t, fake, dir)
  t.notOk(restarted.updates.some(u => u.qr), 'no QR after restart')
  t.equal(fake.connectionAttempts(), 2)
  t.equal(fake.preKeyCount(), 812, 'no new upload on re-login')

  const CAROL = { pn: '15550003333', lid: '300000000000003', name: 'Carol' }
  fake.addContact(CAROL)
  const first = await fake.contactSend(CAROL.pn, 'carol writes first')
  t.equal(first.type, 'pkmsg', 'a contact without a session starts one from the uploaded bundle')
  t.equal(fake.preKeyCount(), 811, 'which consumed one uploaded pre-key')
  await fake.waitFor(() => textsOf(restarted).includes('carol writes first'))
  t.pass('Baileys decrypted it with its stored pre-key: the upload was real')

  await fake.contactSend(BOB.pn, 'while you were restarting')
  await fake.waitFor(() => textsOf(restarted).includes('while you were restarting'))
  await restarted.sock.sendMessage(BOB_JID, { text: 'after restart' })
  const third = await fake.waitFor(() => fake.received().find(m => m.text === 'after restart'))
  t.ok(['pkmsg', 'msg'].includes(third.type), `decrypted after restart (${third.type})`)
  await fake.contactSend(BOB.pn, 'and back')
  await fake.waitFor(() => textsOf(restarted).includes('and back'))
  t.same(fake.errors(), { internal: [], decrypt: [], unhandledIqs: [] }, 'no Bad MAC, nothing unanswered')
  t.equal(fake.maxConcurrentConnections(), 1, 'never two connections at once')
})

t.test('lidOnFirstLookupOnly: the first send after a restart reuses the saved session', async t => {
  const fake = await startFakeWhatsApp({ lidOnFirstLookupOnly: true })
  t.teardown(() => fake.close())
  fake.addContact(BOB)
  const dir = await tempDir(t)
  const client = await pairAndOpen(t, fake, dir)
  await client.sock.sendMessage(BOB_JID, { text: 'one' })
  await fake.waitFor(() => fake.received().find(m => m.text === 'one'))
  await fake.contactSend(BOB.pn, 'reply')
  await fake.waitFor(() => textsOf(client).includes('reply'))
  client.end()
  const restarted = await openClient(t, fake, dir)
  await restarted.sock.sendMessage(BOB_JID, { text: 'two' })
  const two = await fake.waitFor(() => fake.received().find(m => m.text === 'two'))
  t.equal(two.type, 'msg')
  t.same(fake.errors().decrypt, [])
})

t.test('messages sent while the companion is offline arrive at the next login, marked offline', async t => {
  const fake = await startFakeWhatsApp()
  t.teardown(() => fake.close())
  fake.addContact(BOB)
  const dir = await tempDir(t)
  const client = await pairAndOpen(t, fake, dir)
  client.end()
  await fake.waitFor(() => fake.liveConnections() === 0)
  const queued: SentByContact[] = []
  for (let i = 1; i <= 100; i++) queued.push(await fake.contactSend(BOB.pn, `offline ${i}`))
  t.same(new Set(queued.map(q => q.type)), new Set(['queued']))
  t.equal(fake.backlog(), 100, 'the fake keeps them')
  const again = await openClient(t, fake, dir)
  t.equal(fake.backlog(), 0, 'delivered at the login, before open')
  await fake.waitFor(() => queued.every(q => fake.receipts().some(r => r.id === q.id)), 20_000)
  t.pass('Baileys receipted all 100')
  // After the backlog Baileys holds events while it waits for a history sync the fake never sends;
  // a live stanza flushes them (processNodeWithBuffer), as a live message would on WhatsApp.
  const live = await fake.contactSend(BOB.pn, 'live after the backlog')
  await fake.waitFor(() => textsOf(again).includes('live after the backlog'), 10_000)
  t.same(textsOf(again).slice(0, 100), queued.map((_, i) => `offline ${i + 1}`), 'all 100, in order')
  t.same(new Set(queued.map(q => again.upsertTypes.get(q.id))), new Set(['append']), "offline messages are upserted as 'append'")
  t.equal(again.upsertTypes.get(live.id), 'notify')
  t.same(fake.errors().decrypt, [])
})

t.test('close codes: drop, 440 conflict, second login, 401 unpair', async t => {
  const fake = await startFakeWhatsApp()
  t.teardown(() => fake.close())
  const dir = await tempDir(t)
  const client = await pairAndOpen(t, fake, dir)

  t.equal(fake.dropConnection(), 1)
  t.equal(await client.closed(), 428, 'dropped: connectionClosed')

  const c2 = await openClient(t, fake, dir)
  t.equal(fake.kickConflict(), 1)
  t.equal(await c2.closed(), 440, 'conflict: connectionReplaced')

  const c3 = await openClient(t, fake, dir)
  const c4 = await openClient(t, fake, dir)
  t.equal(await c3.closed(), 440, 'a second login replaces the first')
  t.equal(fake.maxConcurrentConnections(), 2, 'the overlap is recorded')
  await fake.waitFor(() => fake.liveConnections() === 1)

  fake.unpair()
  t.equal(await c4.closed(), 401, 'unpaired: loggedOut')
  const c5 = await connectClient(fake.url, dir)
  t.teardown(() => c5.end())
  t.equal(await c5.closed(), 401, 'a later login fails with 401')
  t.equal(fake.connectionAttempts(), 5)
  t.equal(fake.companion(), undefined)
})

t.test('HTTP control API', async t => {
  const fake = await startFakeWhatsApp()
  t.teardown(() => fake.close())
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> => {
    const res = await fetch(`${fake.controlUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    return { status: res.status, json: await res.json() }
  }
  t.match(await call('POST', '/contacts', BOB), { status: 201, json: { jid: BOB_JID, lid: `${BOB.lid}@lid` } })
  t.match(await call('POST', '/contacts', { pn: 1 }), { status: 400 })
  const dir = await tempDir(t)
  const first = await connectClient(fake.url, dir)
  t.teardown(() => first.end())
  t.match(await call('POST', '/scan', { qr: await first.qr() }), { status: 200, json: { jid: '15550001111:7@s.whatsapp.net' } })
  await first.closed()
  const client = await openClient(t, fake, dir)
  t.match(await call('GET', '/state'), { status: 200, json: { preKeyCount: 812, liveConnections: 1, companion: { deviceId: 7 } } })
  await client.sock.sendMessage(BOB_JID, { text: 'over http' })
  await fake.waitFor(() => fake.received().length === 1)
  t.match(await call('GET', '/messages'), { json: [{ text: 'over http', to: BOB_JID }] })
  t.match(await call('POST', `/contacts/${BOB.pn}/send`, { text: 'hi via http' }), { status: 200, json: { type: 'msg' } })
  await fake.waitFor(() => textsOf(client).includes('hi via http'))
  t.match(await call('POST', '/conflict', {}), { json: { kicked: 1 } })
  t.equal(await client.closed(), 440)
  t.match(await call('GET', '/nope'), { status: 404 })
})

t.test('pairing code (link_code_companion_reg) instead of a QR', async t => {
  const fake = await startFakeWhatsApp()
  t.teardown(() => fake.close())
  fake.addContact(BOB)
  const dir = await tempDir(t)
  const first = await connectClient(fake.url, dir)
  t.teardown(() => first.end())
  await first.qr() // the registration is waiting; apps ask for a code at this point
  const code = await first.sock.requestPairingCode(fake.account.pn)
  t.match(code, /^[A-Z0-9]{8}$/)
  const paired = await fake.enterPairingCode(code)
  t.equal(paired.jid, '15550001111:7@s.whatsapp.net')
  t.equal(await first.closed(), 515)
  await t.rejects(fake.enterPairingCode(code, { pn: '15559999999', timeoutMs: 50 }), /no connection requested a pairing code/)
  const client = await openClient(t, fake, dir)
  t.equal(client.sock.user?.id, paired.jid)
  await client.sock.sendMessage(BOB_JID, { text: 'paired by code' })
  await fake.waitFor(() => fake.received().find(m => m.text === 'paired by code'))
  t.pass('sends after pairing by code')
})

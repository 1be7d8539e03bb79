// End to end, the lease during a database outage (SESSION_LEASE on, the default): the holder cannot
// renew, so it closes its WhatsApp socket before the lease could expire (no other instance can then
// find it "expired" while this one still talks to WhatsApp). The close is compared with the expiry
// the database recorded, on this machine's one clock, so how long the test takes to notice does not
// count. Writes made before the socket closed are in the mirror. When the database returns, it takes
// the lease again, reconnects with the same keys, and the messages queued meanwhile decrypt.
import t from 'tap'
import {
  BOB,
  CLIENT_ID,
  contactWritesAndAppDecrypts,
  databaseProxy,
  decryptFailures,
  getJson,
  migratedDatabase,
  pairByQr,
  poll,
  prepareProcess,
  receivedText,
  send,
  startApp,
  startFake,
  tempDir,
  waitForState,
} from './harness.js'

const enforced = prepareProcess()

interface Info { state: string; lease: { role: string | null; fencingToken: number | null; losses: number | null; acquisitions: number | null; mode: string } }

t.test('database outage with the lease on: the socket closes before the lease expires, then comes back', async (t) => {
  t.ok(enforced, 'signature verification enforced')
  const fake = await startFake(t, { lidOnFirstLookupOnly: true })
  fake.addContact(BOB)
  const db = await migratedDatabase(t)
  const proxy = await databaseProxy(t)
  const sessionPath = await tempDir(t)
  const database = { connectTimeout: 1, probe: { baseMs: 200, maxMs: 1000, timeoutMs: 2000 } }
  // The local deadline falls ttl/5 (1.2 s) before the expiry: room for a busy machine's late timers.
  const ttlMs = 6000

  const { app, logs } = await startApp(t, {
    fake, sessionPath, databaseUrl: proxy.url(db.url), database, env: { LEASE_TTL_MS: String(ttlMs) },
  })
  await pairByQr(app, fake)
  const info = async () => (await getJson<Info>(app, '/api/whatsapp/session-info')).body
  const healthy = await info()
  t.match(healthy.lease, { mode: 'postgres', role: 'holder', losses: 0 }, 'holding the lease')
  const firstToken = healthy.lease.fencingToken as number
  t.equal((await send(app, BOB.pn, 'before the outage')).status, 200)
  await receivedText(fake, 'before the outage')

  proxy.cut()
  // The fake calls this check as the connection goes, so closedAt is when WhatsApp saw it close.
  let closedAt = 0
  const closed = fake.waitFor(() => (fake.liveConnections() === 0 ? (closedAt = Date.now()) : undefined), ttlMs * 3)
  await waitForState(app, 'standby', ttlMs * 3)
  await closed
  t.equal(fake.liveConnections(), 0, 'the WhatsApp socket is closed')
  // Read directly, not through the cut proxy: the expiry of the last renewal that got through.
  const [lease] = await db.sql<{ expires_at: Date }[]>`SELECT expires_at FROM whatsapp_session_leases WHERE client_id = ${CLIENT_ID}`
  const early = lease.expires_at.getTime() - closedAt
  t.ok(early > 0, `the socket closed ${early} ms before the lease expired in the database`)
  const during = await info()
  t.match(during.lease, { role: 'standby', losses: 1 }, 'session-info counts the loss')
  const queued = await fake.contactSend(BOB.pn, 'while nobody is connected')
  t.equal(queued.type, 'queued', 'the fake queues it for the next login')
  t.equal((await send(app, BOB.pn, 'refused')).status, 409, 'send answers 409 in standby')

  proxy.restore()
  await waitForState(app, 'open', 20_000)
  const back = await info()
  // Re-taking our own lease while it is still live keeps the token; after an expiry it increases.
  t.match(back.lease, { role: 'holder', losses: 1 }, 'the lease is held again')
  t.ok((back.lease.fencingToken as number) >= firstToken, `under token ${back.lease.fencingToken} (was ${firstToken})`)
  await poll('the queued message decrypted', () => fake.receipts().find((r) => r.id === queued.id))
  t.not(fake.receipts().find((r) => r.id === queued.id)?.type, 'retry', 'the message queued during the outage decrypts')
  const reply = await contactWritesAndAppDecrypts(fake, BOB.pn, 'after the outage')
  t.not(reply.receipt.type, 'retry')
  t.equal((await send(app, BOB.pn, 'after the outage, from the app')).status, 200)
  t.equal((await receivedText(fake, 'after the outage, from the app')).type, 'msg', 'same Signal session as before the outage')
  t.equal(fake.maxConcurrentConnections(), 1)
  t.same(decryptFailures(logs), [], 'no decrypt failure')
  t.same(fake.errors(), { internal: [], decrypt: [], unhandledIqs: [] })
})

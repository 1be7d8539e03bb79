// End to end: two server processes on one database and one fake WhatsApp account. Only the
// lease holder ever opens a socket (the fake allows second logins here, so an overlap would be seen,
// not hidden by a 440); SIGTERM hands over within seconds; kill -9 of the holder lets the standby take
// over within the documented bound (LEASE_TTL_MS 10 s -> under 15 s); a write under the dead holder's
// fencing token is rejected and lands nowhere; the conversation goes on without a decryption failure.
import t from 'tap'
import { createSessionStore, StaleFencingTokenError } from '../../src/keystore/index.js'
import { childDecryptFailures, readChildQr, spawnServer, waitForChildState, type ChildServer } from './child-server.js'
import {
  ACCOUNT_PN,
  BOB,
  CLIENT_ID,
  contactWritesAndAppDecrypts,
  migratedDatabase,
  prepareProcess,
  receivedText,
  startFake,
  storedInDb,
  tempDir,
} from './harness.js'

const enforced = prepareProcess()

t.test('one socket per session across two instances: hand-over, crash takeover, fencing', async (t) => {
  t.ok(enforced, 'signature verification enforced')
  const fake = await startFake(t, { lidOnFirstLookupOnly: true, onSecondLogin: 'allow' })
  fake.addContact(BOB)
  const db = await migratedDatabase(t)
  const envOf = async (name: string) => ({
    DATABASE_URL: db.url,
    SESSION_PATH: await tempDir(t, `wa-lease-${name}-`),
    CLIENT_ID,
    WA_WS_URL: fake.url,
    INSTANCE_ID: name,
    // About the lease alone: placement must not hand the session over to a joining instance here
    // (test/e2e/cluster-placement.test.ts covers that).
    REBALANCE_SETTLE_MS: '600000',
  })
  const conversation = async (server: ChildServer, label: string) => {
    const sent = await server.post('/api/whatsapp/send', { to: BOB.pn, text: `${label}: to bob` })
    t.equal(sent.status, 200, `${label}: ${server.name} sends (${JSON.stringify(sent.body)})`)
    const got = await receivedText(fake, `${label}: to bob`)
    const reply = await contactWritesAndAppDecrypts(fake, BOB.pn, `${label}: bob answers`)
    t.not(reply.receipt.type, 'retry', `${label}: ${server.name} decrypts Bob's reply`)
    return got
  }

  // A starts alone, takes the lease and pairs.
  const a = await spawnServer(t, { name: 'a', env: await envOf('a') })
  const qr = await readChildQr(a)
  await fake.scanQR(qr)
  const aOpen = await waitForChildState(a, 'open')
  t.equal(aOpen.account?.jid, `${ACCOUNT_PN}:7@s.whatsapp.net`, 'a is open')
  t.match(aOpen.lease, { role: 'holder', holder: aOpen.lease.owner, fencingToken: Number }, 'a holds the lease')
  t.match(aOpen.lease.owner, /^a:\d+:[0-9a-f]{8}$/, 'owner = INSTANCE_ID:pid:random')
  const tokenA = aOpen.lease.fencingToken as number

  // B starts on the same database: standby, says who holds the session, refuses what needs the socket.
  const b = await spawnServer(t, { name: 'b', env: await envOf('b') })
  const bStandby = await waitForChildState(b, 'standby')
  await new Promise((r) => setTimeout(r, 500)) // its first lease attempt has answered
  const bInfo = (await b.get('/api/whatsapp/session-info')).body
  t.match(bInfo.lease, { mode: 'postgres', role: 'standby', holder: aOpen.lease.owner, fencingToken: tokenA }, `b in standby names a as holder (${JSON.stringify(bInfo.lease)})`)
  t.ok(Date.parse(bInfo.lease.expiresAt) > Date.now(), 'and until when')
  t.equal(bStandby.connected, false)
  const bSend = await b.post('/api/whatsapp/send', { to: BOB.pn, text: 'from the standby' })
  t.equal(bSend.status, 409, 'the standby does not send')
  t.equal(bSend.body.error.code, 'SESSION_NOT_OPEN')
  const bQr = await b.get('/api/whatsapp/qr')
  t.equal(bQr.status, 409, 'nor offer a QR')
  t.equal(bQr.body.error.code, 'LEASE_HELD_ELSEWHERE')
  t.match(bQr.body.error.message, aOpen.lease.owner, 'the error names the holder')
  const bReconnect = await b.post('/api/whatsapp/reconnect')
  t.equal(bReconnect.status, 409, 'nor reconnect')
  const bDelete = await fetch(`${b.baseUrl}/api/whatsapp/sessions/${CLIENT_ID}`, { method: 'DELETE' })
  t.equal(bDelete.status, 409, "nor delete a's session")
  t.equal((await storedInDb(db.sql)).keys['pre-key'], 812, 'which is intact')
  t.equal(fake.connectionAttempts(), 1, 'b never connected to WhatsApp')

  await conversation(a, 'before the hand-over')

  // Hand-over: SIGTERM to a. It flushes, closes its socket, releases; b connects within seconds.
  const handoverStart = Date.now()
  a.kill('SIGTERM')
  const aExit = await a.exited
  t.equal(aExit.code, 0, 'a exits 0 on SIGTERM')
  const bOpen = await waitForChildState(b, 'open', 10_000)
  const handoverMs = Date.now() - handoverStart
  t.ok(handoverMs < 5_000, `b open ${handoverMs} ms after SIGTERM to a (bound 5 s)`)
  t.ok(bOpen.lease.fencingToken > tokenA, `b holds a newer fencing token (${tokenA} -> ${bOpen.lease.fencingToken})`)
  t.equal(fake.maxConcurrentConnections(), 1, 'WhatsApp never saw two sockets')
  const afterHandover = await conversation(b, 'after the hand-over')
  t.equal(afterHandover.type, 'msg', "b continues a's Signal session with Bob (no new pkmsg)")

  // Crash: a2 waits in standby; b is killed without any chance to release.
  const a2 = await spawnServer(t, { name: 'a2', env: await envOf('a2') })
  await waitForChildState(a2, 'standby')
  await conversation(b, 'before the crash')
  const tokenB = bOpen.lease.fencingToken as number
  const crashAt = Date.now()
  b.kill('SIGKILL')
  await b.exited
  const a2Open = await waitForChildState(a2, 'open', 20_000)
  const takeoverMs = Date.now() - crashAt
  t.ok(takeoverMs < 15_000, `a2 open ${takeoverMs} ms after kill -9 of b (documented bound 15 s with LEASE_TTL_MS=10000)`)
  t.ok(a2Open.lease.fencingToken > tokenB, `a2 took over with a newer token (${tokenB} -> ${a2Open.lease.fencingToken})`)
  t.equal(fake.maxConcurrentConnections(), 1, 'still never two sockets')
  await conversation(a2, 'after the crash')

  // The dead holder's token: a write under it is refused and lands nowhere.
  const before = await storedInDb(db.sql)
  const staleStore = await createSessionStore({ sessionPath: await tempDir(t, 'wa-lease-stale-'), databaseUrl: db.url })
  t.teardown(() => staleStore.close())
  let staleError: unknown = null
  try {
    const stale = await staleStore.open(CLIENT_ID, { fencingToken: tokenB })
    await stale.state.keys.set({ 'pre-key': { 999999: null }, session: { 'stale.0': null } })
    await stale.state.keys.set({ 'sender-key': { 'stale-group::x::0': Buffer.from('stale') } })
    await stale.close()
  } catch (err) {
    staleError = err
  }
  t.ok(staleError instanceof StaleFencingTokenError, `a write under b's old token is rejected (${String(staleError)})`)
  const after = await storedInDb(db.sql)
  t.same(after.keys, before.keys, 'and changed nothing in the database')
  await conversation(a2, 'after the stale write')

  t.same(fake.errors(), { internal: [], decrypt: [], unhandledIqs: [] }, 'no Bad MAC at the fake')
  t.same([a, b, a2].flatMap(childDecryptFailures), [], 'no instance logged a decryption failure')
  a2.kill('SIGTERM')
  t.equal((await a2.exited).code, 0)
})

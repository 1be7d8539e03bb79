// End to end, Postgres mode with the pool behind a TCP proxy: while the database is unreachable the
// session keeps sending and receiving (degraded, keys fsynced to the mirror); once it is back every key
// written meanwhile reaches the database, proven by restarting from the database alone and carrying
// on the very Signal sessions that were created during the outage.
import t from 'tap'
import { rm } from 'node:fs/promises'
import {
  BOB,
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
  storedInDb,
  tempDir,
  waitForState,
  type App,
} from './harness.js'

const enforced = prepareProcess()
const CAROL = { pn: '15550003333', lid: '300000000000003', name: 'Carol' }

interface SessionInfo {
  state: string
  storage: { mode: string; degraded: boolean; databaseReachable: boolean | null; pendingCatchUp: boolean } | null
  keyCounts: Record<string, number>
}
const sessionInfo = async (app: App) => {
  const res = await getJson<SessionInfo>(app, '/api/whatsapp/session-info')
  if (res.status !== 200) throw new Error(`GET /session-info answered ${res.status}`)
  return res.body
}

t.test('a database outage: send and receive degraded, catch up, restart from the database', async (t) => {
  t.ok(enforced, 'signature verification enforced')
  // LID only on the first device lookup: the first send after a restart then reuses the stored session
  // instead of Baileys' forced re-key (see FAKE-WHATSAPP.md section 4), so 'msg' proves it was stored.
  const fake = await startFake(t, { lidOnFirstLookupOnly: true })
  fake.addContact(BOB)
  fake.addContact(CAROL)
  const db = await migratedDatabase(t)
  const proxy = await databaseProxy(t)
  const sessionPath = await tempDir(t)
  // Faster outage probes than production's defaults (1 s doubling to 15 s) keep the file short.
  const database = { connectTimeout: 2, probe: { baseMs: 200, maxMs: 1000, timeoutMs: 3000 } }

  // SESSION_LEASE=off: this is the single-instance promise (stay connected on the mirror however long
  // the outage lasts). With the lease on, an outage longer than the lease's safety deadline closes the
  // socket instead: test/e2e/lease-outage.test.ts.
  const first = await startApp(t, { fake, sessionPath, databaseUrl: proxy.url(db.url), database, env: { SESSION_LEASE: 'off' } })
  await pairByQr(first.app, fake)
  await poll('812 pre-keys in Postgres', async () => (await storedInDb(db.sql)).keys['pre-key'] === 812)
  const healthy = await sessionInfo(first.app)
  t.match(healthy.storage, { mode: 'postgres', degraded: false, databaseReachable: true }, 'healthy before the outage')
  const before = await storedInDb(db.sql)

  // Outage: the app's pool loses every connection and cannot open new ones. (db.sql is direct.)
  proxy.cut()
  const carolFirst = await contactWritesAndAppDecrypts(fake, CAROL.pn, 'carol writes during the outage')
  t.equal(carolFirst.sent.type, 'pkmsg', "Carol starts a session from one of the app's uploaded pre-keys")
  t.not(carolFirst.receipt.type, 'retry', 'the app decrypted it during the outage')
  const toCarol = await send(first.app, CAROL.pn, 'to carol during the outage')
  t.equal(toCarol.status, 200, 'send works during the outage')
  await receivedText(fake, 'to carol during the outage')
  const toBob = await send(first.app, BOB.pn, 'to bob during the outage')
  t.equal(toBob.status, 200)
  t.equal((await receivedText(fake, 'to bob during the outage')).type, 'pkmsg', 'a new session with Bob, created during the outage')
  const bobReply = await contactWritesAndAppDecrypts(fake, BOB.pn, 'bob answers during the outage')
  t.not(bobReply.receipt.type, 'retry', 'the app decrypted the reply during the outage')

  const degraded = await poll('session-info degraded', async () => {
    const info = await sessionInfo(first.app)
    return info.storage?.degraded && info
  })
  t.match(degraded.storage, { degraded: true, databaseReachable: false, pendingCatchUp: true }, 'session-info reports degraded')
  t.equal(degraded.state, 'open', 'the WhatsApp connection stayed open')
  const during = await storedInDb(db.sql)
  t.equal(during.keys['pre-key'], 812, "the database has not seen the pre-key Carol consumed: writes went to the mirror")
  t.equal(during.keys.session ?? 0, before.keys.session ?? 0, 'nor the new Signal sessions')

  // Back: the probe writes the local state back and clears degraded.
  proxy.restore()
  const recovered = await poll('session-info not degraded', async () => {
    const info = await sessionInfo(first.app)
    return info.storage && !info.storage.degraded && !info.storage.pendingCatchUp && info
  }, 20_000)
  t.match(recovered.storage, { degraded: false, databaseReachable: true, pendingCatchUp: false }, 'degraded cleared')
  const after = await storedInDb(db.sql)
  t.equal(after.keys['pre-key'], 811, 'the consumed pre-key is gone from the database too')
  t.ok((after.keys.session ?? 0) > (before.keys.session ?? 0), `the new Signal sessions reached the database (${before.keys.session ?? 0} -> ${after.keys.session})`)
  t.same(after.keys, recovered.keyCounts, 'the database holds exactly the key counts the live session reports')

  // The database alone: no mirror, no QR, and the outage-time sessions carry on.
  await first.close()
  await fake.waitFor(() => fake.liveConnections() === 0, 10_000)
  await rm(sessionPath, { recursive: true, force: true })
  const second = await startApp(t, { fake, sessionPath, databaseUrl: db.url })
  const { seen } = await waitForState(second.app, 'open')
  t.notOk(seen.includes('qr'), `open without a QR (states: ${seen.join(' -> ')})`)

  const carolAgain = await contactWritesAndAppDecrypts(fake, CAROL.pn, 'carol after the restart')
  t.equal(carolAgain.sent.type, 'msg', "Carol continues the session ratcheted during the outage")
  t.not(carolAgain.receipt.type, 'retry', 'and the app, restarted from the database, decrypts it')
  const bobAgain = await contactWritesAndAppDecrypts(fake, BOB.pn, 'bob after the restart')
  t.not(bobAgain.receipt.type, 'retry', "Bob's outage-time session decrypts too")
  const last = await send(second.app, CAROL.pn, 'to carol after the restart')
  t.equal(last.status, 200)
  t.equal((await receivedText(fake, 'to carol after the restart')).type, 'msg', 'the app sends on the stored session (no new pkmsg)')

  t.same(decryptFailures([...first.logs, ...second.logs]), [], 'Baileys logged no decrypt failure')
  t.same(fake.errors(), { internal: [], decrypt: [], unhandledIqs: [] }, 'no Bad MAC at the fake')
})

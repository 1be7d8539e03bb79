// Fault test: kill -9 the server while it writes keys, restart, and every acknowledged write
// is there. The writes are real: twelve contacts open Signal sessions with the account at once (each
// pkmsg consumes a pre-key and stores a session). Baileys answers a message with a receipt only after
// its key transaction committed (our set() resolved), so each receipt marks an acknowledged write.
// After the kill, a new server starts from the database alone (mirror folder deleted) and every contact
// whose message was acknowledged writes again: the app must decrypt it with the stored session.
import t from 'tap'
import { rm } from 'node:fs/promises'
import { readChildQr, spawnServer, waitForChildState } from './child-server.js'
import { CLIENT_ID, migratedDatabase, poll, prepareProcess, startFake, storedInDb, tempDir } from './harness.js'

const enforced = prepareProcess()
const CONTACTS = Array.from({ length: 12 }, (_, i) => ({
  pn: `1555010${String(i).padStart(4, '0')}`,
  lid: `40000000000${String(i).padStart(4, '0')}`,
  name: `Contact ${i}`,
}))

t.test('kill -9 while keys are being written: every acknowledged write survives', async (t) => {
  t.ok(enforced, 'signature verification enforced')
  const fake = await startFake(t, { lidOnFirstLookupOnly: true })
  for (const c of CONTACTS) fake.addContact(c)
  const db = await migratedDatabase(t)
  const sessionPath = await tempDir(t, 'wa-kill-')
  const env = { DATABASE_URL: db.url, SESSION_PATH: sessionPath, CLIENT_ID, WA_WS_URL: fake.url }

  const first = await spawnServer(t, { name: 'first', env })
  const qr = await readChildQr(first)
  await fake.scanQR(qr)
  await waitForChildState(first, 'open')
  await poll('812 pre-keys in Postgres', async () => (await storedInDb(db.sql)).keys['pre-key'] === 812)

  // Everyone writes at once; kill -9 once about half the messages are acknowledged.
  const sent = await Promise.all(CONTACTS.map((c) => fake.contactSend(c.pn, `hello from ${c.name}`)))
  const acked = () => CONTACTS.filter((_, i) => fake.receipts().some((r) => r.id === sent[i]!.id && r.type !== 'retry'))
  await fake.waitFor(() => acked().length >= CONTACTS.length / 2 || undefined, 20_000)
  first.kill('SIGKILL')
  const exit = await first.exited
  t.equal(exit.signal, 'SIGKILL', 'the server was killed, not stopped')
  const acknowledged = acked()
  t.ok(acknowledged.length >= CONTACTS.length / 2, `${acknowledged.length} of ${CONTACTS.length} messages acknowledged before the kill`)
  t.ok(sent.every((s) => s.type === 'pkmsg'), 'each opened a new Signal session (pkmsg, pre-key consumed)')

  // Restart from the database alone.
  await rm(sessionPath, { recursive: true, force: true })
  const second = await spawnServer(t, { name: 'second', env })
  const reopened = await waitForChildState(second, 'open', 30_000)
  t.ok(reopened.account, 'open again without a QR')
  const stored = await storedInDb(db.sql)
  t.ok(stored.keys['pre-key'] <= 812 - acknowledged.length, `every acknowledged pre-key consumption is stored (${stored.keys['pre-key']} pre-keys left)`)
  t.ok((stored.keys.session ?? 0) >= acknowledged.length, `and every acknowledged session (${stored.keys.session ?? 0} stored)`)

  for (const { pn } of acknowledged) {
    const again = await fake.contactSend(pn, `again from ${pn}`)
    const receipt = await fake.waitFor(() => fake.receipts().find((r) => r.id === again.id), 15_000)
    t.not(receipt.type, 'retry', `${pn}: the restarted server decrypts with the session it acknowledged`)
  }
  t.same(fake.errors().decrypt, [], 'no decryption failure at the fake')
  second.kill('SIGTERM')
  t.equal((await second.exited).code, 0)
})

// Events with the lease: two server processes on one database. The standby produces nothing for the
// session (no socket, and its standby state is not reported); after a SIGTERM hand-over the new holder
// continues the same sequence: every message once, no gap, readable from either instance.
import t from 'tap'
import { readChildQr, spawnServer, waitForChildState, type ChildServer } from './child-server.js'
import { BOB, CLIENT_ID, migratedDatabase, poll, prepareProcess, startFake, tempDir } from './harness.js'
import type { StoredEvent } from '../../src/events/types.js'

prepareProcess()

async function eventsOf(server: ChildServer): Promise<StoredEvent[]> {
  const res = await server.get('/api/whatsapp/events?limit=1000')
  if (res.status !== 200) throw new Error(`GET /events: ${res.status}`)
  return res.body.events
}

t.test('a hand-over continues the sequence; the standby produces nothing', async (t) => {
  const fake = await startFake(t, { lidOnFirstLookupOnly: true, onSecondLogin: 'allow' })
  fake.addContact(BOB)
  const db = await migratedDatabase(t)
  const envOf = async (name: string) => ({ DATABASE_URL: db.url, SESSION_PATH: await tempDir(t, `wa-evl-${name}-`), CLIENT_ID, WA_WS_URL: fake.url, INSTANCE_ID: name })
  const bobWrites = async (label: string, n: number) => {
    const sent: Array<{ id: string }> = []
    for (let i = 0; i < n; i++) sent.push(await fake.contactSend(BOB.pn, `${label} ${i}`))
    await fake.waitFor(() => sent.every((s) => fake.receipts().some((r) => r.id === s.id && r.type !== 'retry')) || undefined, 20_000)
    return sent.map((s) => s.id)
  }

  const a = await spawnServer(t, { name: 'a', env: await envOf('a') })
  await fake.scanQR(await readChildQr(a))
  await waitForChildState(a, 'open')
  const atOpen = await poll('a reported open', async () => {
    const es = await eventsOf(a)
    return es.some((e) => e.type === 'session.status' && e.data.state === 'open') ? es : undefined
  })
  const b = await spawnServer(t, { name: 'b', env: await envOf('b') })
  await waitForChildState(b, 'standby')
  await new Promise((r) => setTimeout(r, 1000)) // b's first lease attempts have answered
  t.same(await eventsOf(b), atOpen, 'starting a standby produced no event')
  const beforeIds = await bobWrites('before', 5)
  const seenByB = await eventsOf(b)
  t.same(seenByB.map((e) => e.seq), (await eventsOf(a)).map((e) => e.seq), 'the standby reads the same outbox')
  t.notOk(seenByB.some((e) => e.type === 'session.status' && e.data.state === 'standby'), 'no standby state reported')

  a.kill('SIGTERM')
  t.equal((await a.exited).code, 0)
  await waitForChildState(b, 'open', 30_000)
  const afterIds = await bobWrites('after', 5)
  const events = await poll('the open of b and its messages', async () => {
    const es = await eventsOf(b)
    const ids = es.filter((e) => e.type === 'message.received').map((e) => e.data.id)
    return afterIds.every((id) => ids.includes(id)) ? es : undefined
  })
  t.same(events.map((e) => e.seq), events.map((_, i) => i + 1), 'one sequence from 1, without gaps, across the hand-over')
  const received = events.filter((e) => e.type === 'message.received').map((e) => e.data.id)
  t.same(received, [...beforeIds, ...afterIds], 'every message once, in order')
  t.ok(events.some((e) => e.type === 'session.status' && e.data.state === 'open' && e.seq > events.findIndex((x) => x.data.id === beforeIds.at(-1)) + 1), 'b reported its open')
  b.kill('SIGTERM')
  t.equal((await b.exited).code, 0)
})

// The lease's database load does not grow with the number of sessions: one manager holding many leases
// runs one acquire statement for the holders that start together, one renew statement per heartbeat
// for all of them, and one release statement for all of them at shutdown.
import t from 'tap'
import { createLeaseManager } from '../../src/lease/index.js'
import { createManualClock } from '../helpers/manual-clock.js'
import { countingPool, leaseDatabase, manager } from './helpers.js'

const N = 60
const TTL = 60_000
const RENEW = TTL / 3

t.test(`${N} held leases: one statement per tick, not one per lease`, async (t) => {
  const { url, sql } = await leaseDatabase(t)
  const clock = createManualClock()
  const counted = countingPool(t, url)
  const m = createLeaseManager({ sql: counted.sql, owner: 'instance-a', ttlMs: TTL, statementTimeoutMs: 5000, clock })
  const acquired = new Set<string>()
  const holders = Array.from({ length: N }, (_, i) => m.hold(`s${i}`, { onAcquired: () => { acquired.add(`s${i}`) }, onLost: () => { t.fail('no loss') } }))
  for (const h of holders) h.start()
  const settle = () => m.idle()
  await clock.run(0, settle)
  t.equal(acquired.size, N, 'every lease acquired')
  t.equal(counted.statements(), 1, `${N} leases acquired by one statement`)

  for (let tick = 1; tick <= 3; tick++) {
    const before = counted.statements()
    await clock.run(RENEW, settle)
    t.equal(counted.statements() - before, 1, `heartbeat ${tick}: one renew statement for ${N} leases`)
  }
  t.ok(holders.every((h) => h.state.renewals === 3 && h.state.role === 'holder'), 'each lease renewed at each heartbeat')
  const [{ live }] = await sql<{ live: number }[]>`SELECT count(*)::int AS live FROM whatsapp_session_leases WHERE owner = 'instance-a' AND expires_at > now()`
  t.equal(live, N)

  // Shutdown: every holder stops without its own release, then one statement releases them all.
  const before = counted.statements()
  await Promise.all(holders.map((h) => h.stop({ release: false })))
  t.equal(counted.statements(), before, 'stopping without release runs no statement')
  const released = await m.releaseAll()
  t.equal(released.length, N, 'every lease released')
  t.equal(counted.statements() - before, 1, 'by one statement')
  const [{ stillLive }] = await sql<{ stillLive: number }[]>`SELECT count(*)::int AS "stillLive" FROM whatsapp_session_leases WHERE expires_at > now()`
  t.equal(stillLive, 0)
  t.equal(m.holders(), 0, 'stopped holders are dropped')
  t.same(clock.pending(), [], 'no timer left')
})

t.test('a batch renewal that finds one lease taken loses that one only', async (t) => {
  const { url, sql } = await leaseDatabase(t)
  const clock = createManualClock()
  const m = manager(t, url, 'instance-a', { ttlMs: TTL, clock })
  const lost: string[] = []
  const holders = ['x', 'y', 'z'].map((id) => m.hold(id, { onLost: ({ reason }) => { lost.push(`${id}:${reason}`) } }))
  for (const h of holders) h.start()
  await clock.run(0, () => m.idle())
  await sql`UPDATE whatsapp_session_leases SET owner = 'intruder', fencing_token = fencing_token + 1 WHERE client_id = 'y'`
  await sql`DELETE FROM whatsapp_session_leases WHERE client_id = 'z'`
  await clock.run(RENEW, () => m.idle())
  t.same(lost.sort(), ['y:taken', 'z:taken'])
  t.match(holders[0]?.state, { role: 'holder', renewals: 1 })
  t.match(holders[1]?.state, { role: 'standby', holder: 'intruder' })
  for (const h of holders) await h.stop()
})

t.test('forget() deletes a deleted session\'s lease row unless another instance holds it', async (t) => {
  const { url, sql } = await leaseDatabase(t)
  const a = manager(t, url, 'instance-a')
  const b = manager(t, url, 'instance-b')
  await a.tryAcquire('mine')
  await b.tryAcquire('theirs')
  await b.tryAcquire('expired')
  await sql`UPDATE whatsapp_session_leases SET expires_at = now() - interval '1 second' WHERE client_id = 'expired'`
  t.equal(await a.forget('mine'), true)
  t.equal(await a.forget('theirs'), false, 'a live lease of another instance stays')
  t.equal(await a.forget('expired'), true, 'an expired one goes')
  t.equal(await a.forget('never'), false)
  const rows = await sql<{ client_id: string }[]>`SELECT client_id FROM whatsapp_session_leases`
  t.same(rows.map((r) => r.client_id), ['theirs'])
})

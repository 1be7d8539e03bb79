// Lease holders driven by a manual clock (test/helpers/manual-clock.ts): every poll, renewal, statement
// timeout and local deadline happens when the test advances the clock, never because the machine was
// slow. The database judges expiry on its own clock, so the lease ttl is long (60 s) and an expiry is
// made explicit (expireInDatabase), as the database clock would see it one ttl after the last renewal.
import t from 'tap'
import type { LeaseState } from '../../src/lease/index.js'
import { createManualClock, eventually } from '../helpers/manual-clock.js'
import { countingPool, expireInDatabase, leaseDatabase, manager, nextCall } from './helpers.js'
import { createLeaseManager } from '../../src/lease/index.js'

// ttl 60 s: renew every 20 s, standby polls at most every 12 s, lost 12 s before expiry.
const TTL = 60_000
const RENEW = 20_000
const POLL = 12_000

/** Advances the clock, letting each statement a timer starts finish before the next timer fires. */
async function step(clock: ReturnType<typeof createManualClock>, ms: number, ...managers: { idle(): Promise<void> }[]) {
  await clock.run(ms, async () => {
    for (const m of managers) await m.idle()
  })
}

t.test('standby takes over at its next poll once the dead holder\'s lease expires', async (t) => {
  const { url, sql } = await leaseDatabase(t)
  const clock = createManualClock()
  const a = manager(t, url, 'instance-a', { ttlMs: TTL, clock })
  const b = manager(t, url, 'instance-b', { ttlMs: TTL, clock })
  const aGot = nextCall<{ fencingToken: number }>()
  const bGot = nextCall<{ fencingToken: number }>()
  const aStates: LeaseState[] = []
  const ha = a.hold('s1', { onAcquired: aGot.fn, onLost: () => { t.fail('a never loses here') }, onStateChange: (s) => aStates.push(s) })
  ha.start()
  await step(clock, 0, a)
  t.equal((await aGot.promise).fencingToken, 1)
  t.match(ha.state, { role: 'holder', holder: 'instance-a', fencingToken: 1, acquisitions: 1, owner: 'instance-a' })
  t.equal(ha.fencingToken, 1)

  const hb = b.hold('s1', { onAcquired: bGot.fn, onLost: () => {} })
  hb.start()
  // Through several renewals, b stays in standby and knows who holds the lease.
  for (let i = 0; i < 4; i++) await step(clock, RENEW, a, b)
  t.match(hb.state, { role: 'standby', holder: 'instance-a', fencingToken: 1 })
  t.equal(hb.fencingToken, null)
  t.equal(ha.state.renewals, 4, 'a renewed once per heartbeat')

  // "Kill" a: stop renewing, no release. Its lease stays live until the database clock passes it.
  t.equal(await ha.stop({ release: false }), false)
  await step(clock, POLL, b)
  t.equal(hb.state.role, 'standby', 'no takeover while the dead holder\'s lease is live')
  await expireInDatabase(sql, 's1')
  await step(clock, POLL, b)
  const got = await bGot.promise
  t.equal(got.fencingToken, 2, 'token + 1 on takeover, at the first poll after the expiry')
  t.match(hb.state, { role: 'holder', holder: 'instance-b', fencingToken: 2, takeovers: 1 })
  t.equal(ha.state.role, 'stopped')
  t.ok(aStates.some((s) => s.role === 'holder') && aStates.at(-1)?.role === 'stopped', 'state changes reported')
  await hb.stop()
})

t.test('graceful hand-over: release lets the standby take over at its next poll, long before expiry', async (t) => {
  const { url, sql } = await leaseDatabase(t)
  const clock = createManualClock()
  const a = manager(t, url, 'instance-a', { ttlMs: TTL, pollEveryMs: 200, clock })
  const b = manager(t, url, 'instance-b', { ttlMs: TTL, pollEveryMs: 200, clock })
  const aGot = nextCall<{ fencingToken: number }>()
  const bGot = nextCall<{ fencingToken: number }>()
  const ha = a.hold('s1', { onAcquired: aGot.fn, onLost: () => {} })
  ha.start()
  await step(clock, 0, a)
  await aGot.promise
  const hb = b.hold('s1', { onAcquired: bGot.fn, onLost: () => {} })
  hb.start()
  await step(clock, 0, b)
  await step(clock, 200, b)
  t.equal(hb.state.role, 'standby')

  t.equal(await ha.stop(), true, 'released')
  await step(clock, 200, b)
  t.equal((await bGot.promise).fencingToken, 2, 'taken at the next poll (200 ms of its clock), not after the 60 s ttl')
  const [row] = await sql`SELECT owner, takeovers::int AS n FROM whatsapp_session_leases WHERE client_id = 's1'`
  t.same(row, { owner: 'instance-b', n: 1 })
  await hb.stop()
  t.match(await a.read('s1'), { live: false }, 'stop() released b too')
})

t.test('stop() clears its timers: no statement after stop, even when stopped mid-standby', async (t) => {
  const { url, sql } = await leaseDatabase(t)
  const clock = createManualClock()
  const counted = countingPool(t, url)
  const a = createLeaseManager({ sql: counted.sql, owner: 'instance-a', ttlMs: TTL, statementTimeoutMs: 5000, clock })
  const b = createLeaseManager({ sql: counted.sql, owner: 'instance-b', ttlMs: TTL, statementTimeoutMs: 5000, clock })
  const aGot = nextCall<{ fencingToken: number }>()
  const ha = a.hold('s1', { onAcquired: aGot.fn, onLost: () => {} })
  ha.start()
  await step(clock, 0, a)
  await aGot.promise
  const hb = b.hold('s1', { onLost: () => {} })
  hb.start()
  await step(clock, 0, b)
  await hb.stop()
  await ha.stop({ release: false })
  const [before] = await sql`SELECT renewed_at, owner FROM whatsapp_session_leases`
  const statements = counted.statements()
  t.same(clock.pending(), [], 'no timer left')
  await step(clock, TTL * 10, a, b)
  t.equal(counted.statements(), statements, 'no statement after both stopped')
  const [after] = await sql`SELECT renewed_at, owner FROM whatsapp_session_leases`
  t.same(after, before, 'nobody touched the row after both stopped')
  t.equal(before?.owner, 'instance-a', 'the stopped standby never took over')
  t.equal(hb.state.role, 'stopped')
  t.equal(await hb.stop(), false, 'stop is idempotent')
})

t.test('an aborted signal stops the holder without releasing', async (t) => {
  const { url } = await leaseDatabase(t)
  const clock = createManualClock()
  const a = manager(t, url, 'instance-a', { ttlMs: TTL, clock })
  const ac = new AbortController()
  const aGot = nextCall<{ fencingToken: number }>()
  const ha = a.hold('s1', { onAcquired: aGot.fn, onLost: () => {}, signal: ac.signal })
  ha.start()
  await step(clock, 0, a)
  await aGot.promise
  ac.abort()
  await ha.stop()
  t.equal(ha.state.role, 'stopped')
  t.match(await a.read('s1'), { owner: 'instance-a', live: true }, 'abort does not release (the socket may still be open)')
})

t.test('a holder whose lease is taken (row edited) calls onLost, then returns to standby', async (t) => {
  const { url, sql } = await leaseDatabase(t)
  const clock = createManualClock()
  const a = manager(t, url, 'instance-a', { ttlMs: TTL, clock })
  const aGot = nextCall<{ fencingToken: number }>()
  const aLost = nextCall<{ fencingToken: number; reason: string }>()
  const ha = a.hold('s1', { onAcquired: aGot.fn, onLost: aLost.fn })
  ha.start()
  await step(clock, 0, a)
  await aGot.promise
  // An operator (or a bug elsewhere) hands the lease to someone else.
  await sql`UPDATE whatsapp_session_leases SET owner = 'intruder', fencing_token = fencing_token + 1`
  await step(clock, RENEW, a)
  t.same(await aLost.promise, { fencingToken: 1, reason: 'taken' })
  await eventually('back in standby', () => ha.state.role === 'standby' && clock.pending().length > 0)
  await step(clock, 0, a)
  t.match(ha.state, { role: 'standby', holder: 'intruder', fencingToken: 2, losses: 1 })
  await ha.stop()
  t.match(await a.read('s1'), { owner: 'intruder', live: true }, 'stop() does not release a lease that is not ours')
})

t.test('one running holder per client id per manager; stopped holders are dropped', async (t) => {
  const { url } = await leaseDatabase(t)
  const a = manager(t, url, 'instance-a', { clock: createManualClock() })
  const h1 = a.hold('s1', { onLost: () => {} })
  t.throws(() => a.hold('s1', { onLost: () => {} }), /already running/)
  const other = a.hold('s2', { onLost: () => {} })
  t.equal(a.holders(), 2)
  await h1.stop()
  t.equal(a.holders(), 1, 'the stopped holder is forgotten')
  const h2 = a.hold('s1', { onLost: () => {} })
  t.equal(h2.state.role, 'standby', 'a new holder once the previous one stopped')
  await h2.stop()
  await other.stop()
  t.equal(a.holders(), 0)
})

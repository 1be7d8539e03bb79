import t from 'tap'
import type { LeaseState } from '../../src/lease/index.js'
import { leaseDatabase, manager, nextCall, sleep } from './helpers.js'

// ttl 600 ms: renew every 200, standby polls at most every 120, lost 120 ms before expiry.
const TTL = 600
const POLL = 120

t.test('standby takes over within ttl + poll after the holder dies without releasing', async (t) => {
  const { url } = await leaseDatabase(t)
  const a = manager(t, url, 'instance-a')
  const b = manager(t, url, 'instance-b')
  const aGot = nextCall<{ fencingToken: number }>()
  const bGot = nextCall<{ fencingToken: number }>()
  const aStates: LeaseState[] = []
  const ha = a.hold('s1', { onAcquired: aGot.fn, onLost: () => { t.fail('a never loses here') }, onStateChange: (s) => aStates.push(s) })
  ha.start()
  t.equal((await aGot.promise).fencingToken, 1)
  t.match(ha.state, { role: 'holder', holder: 'instance-a', fencingToken: 1, acquisitions: 1, owner: 'instance-a' })
  t.equal(ha.fencingToken, 1)

  const hb = b.hold('s1', { onAcquired: bGot.fn, onLost: () => {} })
  hb.start()
  // Through several renewals, b stays in standby and knows who holds the lease.
  await sleep(TTL * 2)
  t.match(hb.state, { role: 'standby', holder: 'instance-a', fencingToken: 1 })
  t.equal(hb.fencingToken, null)
  t.ok(ha.state.renewals >= 3, `a renewed (${ha.state.renewals})`)

  // "Kill" a: stop renewing, no release.
  const diedAt = performance.now()
  t.equal(await ha.stop({ release: false }), false)
  const got = await bGot.promise
  const elapsed = performance.now() - diedAt
  t.equal(got.fencingToken, 2, 'token + 1 on takeover')
  t.ok(elapsed <= TTL + POLL + 150, `took over in ${Math.round(elapsed)} ms (bound ttl + poll)`)
  t.match(hb.state, { role: 'holder', holder: 'instance-b', fencingToken: 2, takeovers: 1 })
  t.equal(ha.state.role, 'stopped')
  t.ok(aStates.some((s) => s.role === 'holder') && aStates.at(-1)?.role === 'stopped', 'state changes reported')
  await hb.stop()
})

t.test('graceful hand-over: release lets the standby take over at its next poll', async (t) => {
  const { url, sql } = await leaseDatabase(t)
  const a = manager(t, url, 'instance-a', { ttlMs: 3000, pollEveryMs: 200 })
  const b = manager(t, url, 'instance-b', { ttlMs: 3000, pollEveryMs: 200 })
  const aGot = nextCall<{ fencingToken: number }>()
  const bGot = nextCall<{ fencingToken: number }>()
  const ha = a.hold('s1', { onAcquired: aGot.fn, onLost: () => {} })
  ha.start()
  await aGot.promise
  const hb = b.hold('s1', { onAcquired: bGot.fn, onLost: () => {} })
  hb.start()
  await sleep(300)
  t.equal(hb.state.role, 'standby')

  const releasedAt = performance.now()
  t.equal(await ha.stop(), true, 'released')
  const got = await bGot.promise
  const elapsed = performance.now() - releasedAt
  t.equal(got.fencingToken, 2)
  t.ok(elapsed < 1000, `hand-over in ${Math.round(elapsed)} ms, long before the 3 s ttl`)
  const [row] = await sql`SELECT owner, takeovers::int AS n FROM whatsapp_session_leases WHERE client_id = 's1'`
  t.same(row, { owner: 'instance-b', n: 1 })
  await hb.stop()
  t.match(await a.read('s1'), { live: false }, 'stop() released b too')
})

t.test('stop() clears its timers: no statement after stop, even when stopped mid-standby', async (t) => {
  const { url, sql } = await leaseDatabase(t)
  const a = manager(t, url, 'instance-a')
  const b = manager(t, url, 'instance-b')
  const aGot = nextCall<{ fencingToken: number }>()
  const ha = a.hold('s1', { onAcquired: aGot.fn, onLost: () => {} })
  ha.start()
  await aGot.promise
  const hb = b.hold('s1', { onLost: () => {} })
  hb.start()
  await sleep(100)
  await hb.stop()
  await ha.stop({ release: false })
  const [before] = await sql`SELECT renewed_at, owner FROM whatsapp_session_leases`
  await sleep(TTL * 2)
  const [after] = await sql`SELECT renewed_at, owner FROM whatsapp_session_leases`
  t.same(after, before, 'nobody touched the row after both stopped')
  t.equal(before?.owner, 'instance-a', 'the stopped standby never took over')
  t.equal(hb.state.role, 'stopped')
  t.equal(await hb.stop(), false, 'stop is idempotent')
})

t.test('an aborted signal stops the holder without releasing', async (t) => {
  const { url } = await leaseDatabase(t)
  const a = manager(t, url, 'instance-a')
  const ac = new AbortController()
  const aGot = nextCall<{ fencingToken: number }>()
  const ha = a.hold('s1', { onAcquired: aGot.fn, onLost: () => {}, signal: ac.signal })
  ha.start()
  await aGot.promise
  ac.abort()
  await ha.stop()
  t.equal(ha.state.role, 'stopped')
  t.match(await a.read('s1'), { owner: 'instance-a', live: true }, 'abort does not release (the socket may still be open)')
})

t.test('a holder whose lease is taken (row edited) calls onLost, then returns to standby', async (t) => {
  const { url, sql } = await leaseDatabase(t)
  const a = manager(t, url, 'instance-a')
  const aGot = nextCall<{ fencingToken: number }>()
  const aLost = nextCall<{ fencingToken: number; reason: string }>()
  const ha = a.hold('s1', { onAcquired: aGot.fn, onLost: aLost.fn })
  ha.start()
  await aGot.promise
  // An operator (or a bug elsewhere) hands the lease to someone else.
  await sql`UPDATE whatsapp_session_leases SET owner = 'intruder', fencing_token = fencing_token + 1`
  const lost = await aLost.promise
  t.same(lost, { fencingToken: 1, reason: 'taken' })
  await sleep(50)
  t.match(ha.state, { role: 'standby', holder: 'intruder', fencingToken: 2, losses: 1 })
  await ha.stop()
  t.match(await a.read('s1'), { owner: 'intruder', live: true }, 'stop() does not release a lease that is not ours')
})

t.test('one running holder per client id per manager', async (t) => {
  const { url } = await leaseDatabase(t)
  const a = manager(t, url, 'instance-a')
  const h1 = a.hold('s1', { onLost: () => {} })
  t.throws(() => a.hold('s1', { onLost: () => {} }), /already running/)
  const other = a.hold('s2', { onLost: () => {} })
  await h1.stop()
  const h2 = a.hold('s1', { onLost: () => {} })
  t.equal(h2.state.role, 'standby', 'a new holder once the previous one stopped')
  await h2.stop()
  await other.stop()
})

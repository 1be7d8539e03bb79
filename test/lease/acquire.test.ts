import t from 'tap'
import { createLeaseManager } from '../../src/lease/index.js'
import { expireInDatabase, leaseDatabase, manager, pool } from './helpers.js'

t.test('two owners: only one acquires; renew, release and takeover move the fencing token', async (t) => {
  const { url, sql } = await leaseDatabase(t)
  const a = manager(t, url, 'instance-a')
  const b = manager(t, url, 'instance-b')

  const first = await a.tryAcquire('s1')
  t.match(first, { held: true, owner: 'instance-a', fencingToken: 1, takeovers: 0 })
  const refused = await b.tryAcquire('s1')
  t.match(refused, { held: false, holder: 'instance-a', fencingToken: 1, takeovers: 0 })
  if (refused.held || !first.held) throw new Error('unreachable')
  t.same(refused.expiresAt, first.expiresAt, 'standby sees the holder expiry')

  // Acquiring again while ours and live extends it under the same token. The expiry is compared in the
  // database, at its microsecond precision (a Date keeps milliseconds, which two quick calls can share).
  const [before] = await sql<{ at: string }[]>`SELECT expires_at::text AS at FROM whatsapp_session_leases WHERE client_id = 's1'`
  const again = await a.tryAcquire('s1')
  t.match(again, { held: true, fencingToken: 1 })
  const [{ moved }] = await sql<{ moved: boolean }[]>`
    SELECT expires_at > ${before.at}::timestamptz AS moved FROM whatsapp_session_leases WHERE client_id = 's1'`
  t.equal(moved, true, 'expiry moved forward')

  const renewed = await a.renew('s1', 1)
  t.match(renewed, { held: true, fencingToken: 1 })
  t.match(await b.renew('s1', 1), { held: false, holder: 'instance-a' }, 'another owner cannot renew')

  t.equal(await b.release('s1'), false, 'another owner cannot release')
  t.equal(await a.release('s1', 99), false, 'a wrong token does not release')
  t.equal(await a.release('s1', 1), true)
  t.equal(await a.release('s1'), false, 'release is only for a live lease')

  const taken = await b.tryAcquire('s1')
  t.match(taken, { held: true, owner: 'instance-b', fencingToken: 2, takeovers: 1 }, 'immediate takeover after release')
  t.match(await a.renew('s1', 1), { held: false, holder: 'instance-b', fencingToken: 2 }, 'old token is dead')

  const [row] = await sql`SELECT owner, fencing_token::int AS token, takeovers::int AS takeovers FROM whatsapp_session_leases`
  t.same(row, { owner: 'instance-b', token: 2, takeovers: 1 })
  const read = await a.read('s1')
  t.match(read, { clientId: 's1', owner: 'instance-b', fencingToken: 2, takeovers: 1, live: true })
  t.equal(await a.read('nobody'), null)
})

t.test('an expired lease is taken over with token + 1; leases are per client id', async (t) => {
  const { url, sql } = await leaseDatabase(t)
  const a = manager(t, url, 'instance-a')
  const b = manager(t, url, 'instance-b')
  t.match(await a.tryAcquire('s1'), { held: true, fencingToken: 1 })
  t.match(await b.tryAcquire('s2'), { held: true, fencingToken: 1 }, 'another client id is independent')
  t.match(await b.tryAcquire('s1'), { held: false })
  await expireInDatabase(sql, 's1')
  t.match(await a.renew('s1', 1), { held: false, holder: 'instance-a' }, 'an expired lease cannot be renewed')
  t.match(await b.tryAcquire('s1'), { held: true, owner: 'instance-b', fencingToken: 2, takeovers: 1 })
  t.match(await b.tryAcquire('s2'), { held: true, fencingToken: 1 }, 'the other client id kept its lease and token')
  await expireInDatabase(sql, 's1')
  t.match(await b.tryAcquire('s1'), { held: true, fencingToken: 3, takeovers: 1 },
    'own expired lease re-acquired: new token (older writes are fenced), same owner so no takeover')
  t.match(await a.tryAcquire('s1'), { held: false, holder: 'instance-b', fencingToken: 3 })
})

t.test('N managers racing on one fresh client id: exactly one holder, all agree on it', async (t) => {
  const { url } = await leaseDatabase(t)
  const managers = Array.from({ length: 12 }, (_, i) => manager(t, url, `racer-${i}`))
  for (let round = 0; round < 5; round++) {
    const id = `race-${round}`
    const results = await Promise.all(managers.map((m) => m.tryAcquire(id)))
    const holders = results.filter((r) => r.held)
    t.equal(holders.length, 1, `round ${round}: exactly one holder`)
    const winner = holders[0]?.held ? holders[0].owner : ''
    for (const r of results) if (!r.held) t.equal(r.holder, winner, 'losers name the winner')
  }
})

t.test('works with prepare: false and rejects bad options', async (t) => {
  const { url } = await leaseDatabase(t)
  const sql = pool(t, url, { prepare: false })
  t.throws(() => createLeaseManager({ sql, owner: '' }), RangeError)
  t.throws(() => createLeaseManager({ sql, owner: 'x', ttlMs: 1000, renewEveryMs: 900 }), RangeError)
  const m = createLeaseManager({ sql, owner: 'x' })
  t.same(m.config, {
    owner: 'x', ttlMs: 10_000, renewEveryMs: 3333, pollEveryMs: 2000, safetyMarginMs: 2000, statementTimeoutMs: 3333,
  }, 'defaults')
  t.match(await m.tryAcquire('p'), { held: true, fencingToken: 1 })
})

t.test('N managers racing to take over an expired lease: exactly one wins, token + 1 once', async (t) => {
  const { url, sql } = await leaseDatabase(t)
  const dead = manager(t, url, 'dead-holder')
  const managers = Array.from({ length: 10 }, (_, i) => manager(t, url, `racer-${i}`))
  t.match(await dead.tryAcquire('s'), { held: true, fencingToken: 1 })
  await expireInDatabase(sql, 's')
  const results = await Promise.all(managers.map((m) => m.tryAcquire('s')))
  const winners = results.filter((r) => r.held)
  t.equal(winners.length, 1, 'exactly one takes over')
  t.match(winners[0], { fencingToken: 2, takeovers: 1 })
  const row = await dead.read('s')
  t.equal(row?.fencingToken, 2, 'the token moved once')
  t.equal(row?.owner, winners[0]?.held ? winners[0].owner : null)
})

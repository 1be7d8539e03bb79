// The lease loop asks placement before trying a lease: a standby placed on another instance never
// tries it (its row is only read, all of them in one statement, when it is placed anew and then once
// per ttl, so it can say who holds the session), and wake() makes every standby try again at once
// when placement changes (a dead instance's sessions).
import t from 'tap'
import { createLeaseManager } from '../../src/lease/index.js'
import { createManualClock } from '../helpers/manual-clock.js'
import { countingPool, leaseDatabase } from './helpers.js'

const TTL = 60_000
const POLL = TTL / 5

t.test('deferred standbys run no statement; wake() retries them at once when placement changes', async (t) => {
  const { url, sql } = await leaseDatabase(t)
  await sql`INSERT INTO whatsapp_session_leases (client_id, owner, fencing_token, expires_at) VALUES ('b1', 'instance-b', 4, now() + interval '20 seconds')`
  const clock = createManualClock()
  const counted = countingPool(t, url)
  let elsewhere = new Map<string, string>([['b1', 'instance-b'], ['b2', 'instance-b']])
  const m = createLeaseManager({
    sql: counted.sql, owner: 'instance-a', ttlMs: TTL, statementTimeoutMs: 5000, clock,
    preferredElsewhere: (id) => elsewhere.get(id) ?? null,
  })
  const acquired: string[] = []
  const holders = ['a1', 'b1', 'b2'].map((id) => m.hold(id, { onAcquired: () => { acquired.push(id) }, onLost: () => { t.fail('no loss') } }))
  for (const h of holders) h.start()
  const settle = () => m.idle()
  await clock.run(0, settle)
  t.same(acquired, ['a1'], 'only the lease placement gives this instance')
  t.equal(counted.statements(), 2, 'one statement tries a1, one reads the rows of b1 and b2')
  t.match(holders[1]?.state, { role: 'standby', deferredTo: 'instance-b', holder: 'instance-b', fencingToken: 4 }, 'b1 knows its holder')
  t.match(holders[2]?.state, { role: 'standby', deferredTo: 'instance-b', holder: null }, 'b2 has no lease yet')
  t.match(holders[0]?.state, { role: 'holder', deferredTo: null })

  const before = counted.statements()
  await clock.run(POLL * 3, settle)
  t.equal(counted.statements() - before, 1, 'three poll periods (under a ttl): only a1\'s renewal, no attempt nor read for the deferred two')
  const beforeTtl = counted.statements()
  await clock.run(TTL - POLL * 3, settle)
  t.equal(counted.statements() - beforeTtl, 3, 'after a ttl: two renewals and one read of both rows')

  // instance-b is gone: placement now gives b1 here; wake() tries it without waiting for a poll period.
  await sql`UPDATE whatsapp_session_leases SET expires_at = now() - interval '1 second' WHERE client_id = 'b1'`
  elsewhere = new Map([['b2', 'instance-c']])
  m.wake()
  await clock.run(0, settle)
  t.same(acquired, ['a1', 'b1'], 'b1 acquired at once after wake()')
  t.match(holders[2]?.state, { role: 'standby', deferredTo: 'instance-c' }, 'b2 follows the new placement')
  for (const h of holders) await h.stop()
})

// The lease loop asks placement before trying a lease: a standby placed on another instance costs no
// statement (it is asked again every poll period), says where it is placed, and wake() makes every
// standby try again at once when placement changes (a dead instance's sessions).
import t from 'tap'
import { createLeaseManager } from '../../src/lease/index.js'
import { createManualClock } from '../helpers/manual-clock.js'
import { countingPool, leaseDatabase } from './helpers.js'

const TTL = 60_000
const POLL = TTL / 5

t.test('deferred standbys run no statement; wake() retries them at once when placement changes', async (t) => {
  const { url } = await leaseDatabase(t)
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
  t.equal(counted.statements(), 1, 'one statement, for a1 only')
  t.match(holders[1]?.state, { role: 'standby', deferredTo: 'instance-b', holder: null })
  t.match(holders[0]?.state, { role: 'holder', deferredTo: null })

  const before = counted.statements()
  await clock.run(POLL * 3, settle)
  t.equal(counted.statements() - before, 1, 'three poll periods: only a1\'s renewal, no attempt for the deferred two')

  // instance-b is gone: placement now gives b1 here; wake() tries it without waiting for a poll period.
  elsewhere = new Map([['b2', 'instance-c']])
  m.wake()
  await clock.run(0, settle)
  t.same(acquired, ['a1', 'b1'], 'b1 acquired at once after wake()')
  t.match(holders[2]?.state, { role: 'standby', deferredTo: 'instance-c' }, 'b2 follows the new placement')
  for (const h of holders) await h.stop()
})

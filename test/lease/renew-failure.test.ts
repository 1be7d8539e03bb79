// A holder cut off from the database (a TCP proxy that blackholes its link) must call onLost at its
// local deadline, before the lease can expire in the database; a standby then takes over once it has.
// Timers run on a manual clock: renewal retries, statement timeouts and the deadline fire when the test
// advances it, so the outcome does not depend on the machine's speed.
import t from 'tap'
import { createLeaseManager } from '../../src/lease/index.js'
import { createManualClock } from '../helpers/manual-clock.js'
import { expireInDatabase, leaseDatabase, manager, nextCall, pool } from './helpers.js'
import { createTcpProxy } from '../helpers/tcp-proxy.js'

const TTL = 60_000
const MARGIN = TTL / 5

t.test('a holder cut off from the database calls onLost before its lease expires; standby takes over', async (t) => {
  const { url, sql } = await leaseDatabase(t)
  const target = new URL(url)
  const proxy = await createTcpProxy({ target: { host: target.hostname, port: Number(target.port || 5432) } })
  t.teardown(() => proxy.close())
  const viaProxy = new URL(url)
  viaProxy.hostname = '127.0.0.1'
  viaProxy.port = String(proxy.port)

  const clock = createManualClock()
  // a talks to the database through the proxy; its statements time out (on its clock) so it retries.
  const a = createLeaseManager({
    sql: pool(t, viaProxy.toString(), { connect_timeout: 1 }), owner: 'instance-a', ttlMs: TTL, statementTimeoutMs: 1000, clock,
  })
  const b = manager(t, url, 'instance-b', { ttlMs: TTL, clock })
  const settle = async () => {
    await a.idle()
    await b.idle()
  }
  const aGot = nextCall<{ fencingToken: number }>()
  const bGot = nextCall<{ fencingToken: number }>()
  const lostCheck = nextCall<{ reason: string; fencingToken: number; live: boolean; leftMs: number; role: string; at: number }>()

  const ha = a.hold('s1', {
    onAcquired: aGot.fn,
    onLost: async ({ reason, fencingToken }) => {
      // Read the row directly the moment a is told: the lease must still be live.
      const [row] = await sql`
        SELECT expires_at > now() AS live, (extract(epoch FROM expires_at - now()) * 1000)::float8 AS left_ms
          FROM whatsapp_session_leases WHERE client_id = 's1'`
      lostCheck.fn({ reason, fencingToken, live: row?.live, leftMs: row?.left_ms, role: ha.state.role, at: clock.now() })
    },
  })
  const start = clock.now()
  ha.start()
  await clock.run(0, settle)
  t.equal((await aGot.promise).fencingToken, 1)
  const hb = b.hold('s1', { onAcquired: bGot.fn, onLost: () => {} })
  hb.start()
  await clock.run(0, settle)
  t.equal(hb.state.role, 'standby')

  // Cut before the first renewal: the last successful statement is the acquisition, sent at `start`.
  // A statement in flight on a cut link settles only by its timeout, which fires as the clock moves on.
  proxy.cut('blackhole')
  const turn = () => new Promise((r) => setImmediate(r))
  for (let ms = 0; ms < TTL && !ha.state.losses; ms += 500) await clock.run(500, turn)
  const lost = await lostCheck.promise
  t.equal(lost.reason, 'deadline')
  t.equal(lost.fencingToken, 1)
  t.equal(lost.at - start, TTL - MARGIN, 'at the local deadline: ttl - margin after the acquisition was sent')
  t.equal(lost.live, true, `onLost came while the lease was still live (${Math.round(lost.leftMs)} ms left)`)
  t.equal(lost.role, 'standby', 'the holder no longer claims the lease when onLost runs')
  t.ok(ha.state.renewFailures >= 1, `renewals failed (${ha.state.renewFailures})`)
  t.match(ha.state.lastError, /did not complete|timeout|closed|ECONN/i)

  // The database clock passes the expiry: b takes over at its next poll with token + 1.
  await expireInDatabase(sql, 's1')
  await clock.run(TTL / 5, () => b.idle())
  t.equal((await bGot.promise).fencingToken, 2, 'standby took over after expiry with token + 1')

  // Back online, a stays in standby behind b and cannot renew its dead token.
  proxy.restore()
  for (let i = 0; i < 40 && ha.state.holder !== 'instance-b'; i++) await clock.run(TTL / 5, settle)
  t.match(ha.state, { role: 'standby', holder: 'instance-b', fencingToken: 2, losses: 1 })
  t.match(await a.renew('s1', 1), { held: false, holder: 'instance-b' })
  await ha.stop()
  await hb.stop()
  t.match(await b.read('s1'), { owner: 'instance-b', live: false }, 'b released on stop')
})

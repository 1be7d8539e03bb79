import t from 'tap'
import { createLeaseManager } from '../../src/lease/index.js'
import { leaseDatabase, manager, nextCall, pool, sleep } from './helpers.js'
import { createTcpProxy } from './tcp-proxy.js'

t.test('a holder cut off from the database calls onLost before its lease expires; standby takes over', async (t) => {
  const { url, sql } = await leaseDatabase(t)
  const target = new URL(url)
  const proxy = await createTcpProxy({ target: { host: target.hostname, port: Number(target.port || 5432) } })
  t.teardown(() => proxy.close())
  const viaProxy = new URL(url)
  viaProxy.hostname = '127.0.0.1'
  viaProxy.port = String(proxy.port)

  // a talks to the database through the proxy; its statements time out quickly so it retries.
  const a = createLeaseManager({
    sql: pool(t, viaProxy.toString(), { connect_timeout: 1 }), owner: 'instance-a', ttlMs: 600, statementTimeoutMs: 150,
  })
  const b = manager(t, url, 'instance-b')
  const aGot = nextCall<{ fencingToken: number }>()
  const bGot = nextCall<{ fencingToken: number }>()
  const lostCheck = nextCall<{ reason: string; fencingToken: number; live: boolean; leftMs: number; role: string }>()

  const ha = a.hold('s1', {
    onAcquired: aGot.fn,
    onLost: async ({ reason, fencingToken }) => {
      // Read the row directly the moment a is told: the lease must still be live.
      const [row] = await sql`
        SELECT expires_at > now() AS live, (extract(epoch FROM expires_at - now()) * 1000)::float8 AS left_ms,
               owner FROM whatsapp_session_leases WHERE client_id = 's1'`
      lostCheck.fn({ reason, fencingToken, live: row?.live, leftMs: row?.left_ms, role: ha.state.role })
    },
  })
  ha.start()
  t.equal((await aGot.promise).fencingToken, 1)
  const hb = b.hold('s1', { onAcquired: bGot.fn, onLost: () => {} })
  hb.start()
  await sleep(300)
  t.equal(hb.state.role, 'standby')

  proxy.cut()
  const lost = await lostCheck.promise
  t.equal(lost.reason, 'deadline')
  t.equal(lost.fencingToken, 1)
  t.equal(lost.live, true, `onLost came while the lease was still live (${Math.round(lost.leftMs)} ms left)`)
  t.equal(lost.role, 'standby', 'the holder no longer claims the lease when onLost runs')
  t.ok(ha.state.renewFailures >= 1, `renewals failed (${ha.state.renewFailures})`)
  t.match(ha.state.lastError, /did not complete|timeout|closed|ECONN/i)

  const got = await bGot.promise
  t.equal(got.fencingToken, 2, 'standby took over after expiry with token + 1')

  // Back online, a stays in standby behind b and cannot renew its dead token.
  proxy.restore()
  await sleep(800)
  t.match(ha.state, { role: 'standby', holder: 'instance-b', fencingToken: 2, losses: 1 })
  t.match(await a.renew('s1', 1), { held: false, holder: 'instance-b' })
  await ha.stop()
  await hb.stop()
  t.match(await b.read('s1'), { owner: 'instance-b', live: false }, 'b released on stop')
})

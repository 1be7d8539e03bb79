// The instance registry against real Postgres: one statement registers and lists the live instances,
// staleness is judged on the database clock, deregister removes the row, holderOf joins the lease.
import t from 'tap'
import { createInstanceRegistry } from '../../src/cluster/registry.js'
import { createLeaseManager } from '../../src/lease/index.js'
import { createMigratedDatabase } from '../helpers/db.js'
import { createManualClock } from '../helpers/manual-clock.js'

t.test('heartbeat registers, lists live instances by id, forgets stale ones; deregister; holderOf', async (t) => {
  const { sql } = await createMigratedDatabase(t, 'wa_registry')
  const clock = createManualClock()
  const registry = (id: string, url: string | null, flyMachineId: string | null = null) =>
    createInstanceRegistry({ sql, self: { id, url, flyMachineId }, heartbeatMs: 1000, freshMs: 3000, clock })
  const b = registry('b:1:x', 'http://10.0.0.6:3000')
  const a = registry('a:1:x', 'http://10.0.0.5:3000', 'm-a')

  t.equal(b.snapshot(), null, 'nothing known before the first heartbeat')
  const first = await b.beat()
  t.same(first.map((i) => i.id), ['b:1:x'], 'itself, at its first heartbeat')
  t.ok(b.self.startedAt.getTime() > 0, 'self learns its registration time (database clock)')
  const both = await a.beat()
  t.same(both.map((i) => [i.id, i.url, i.flyMachineId]), [['a:1:x', 'http://10.0.0.5:3000', 'm-a'], ['b:1:x', 'http://10.0.0.6:3000', null]], 'ordered by id')
  t.ok(both.every((i) => i.ageMs >= 0), 'ages on the database clock')

  // b stops heartbeating: a stops counting it once its heartbeat is older than freshMs.
  await sql`UPDATE whatsapp_instances SET heartbeat_at = now() - interval '4 seconds', started_at = now() - interval '1 minute' WHERE id = 'b:1:x'`
  t.same((await a.beat()).map((i) => i.id), ['a:1:x'], 'a stale instance is not live')
  t.same((await a.live()).map((i) => i.id), ['a:1:x'], 'live() answers from the heartbeat while it is fresh')
  const bAgain = await b.beat()
  t.same(bAgain.map((i) => i.id), ['a:1:x', 'b:1:x'], 'a heartbeat makes it live again')
  t.ok((bAgain.find((i) => i.id === 'b:1:x')?.ageMs ?? 0) >= 60_000, 'a returning instance keeps its start time')

  // live() is cached for one heartbeat, then read again.
  await sql`UPDATE whatsapp_instances SET heartbeat_at = now() - interval '4 seconds' WHERE id = 'b:1:x'`
  t.same((await a.live()).map((i) => i.id), ['a:1:x'], 'cached')
  clock.advance(1000)
  t.same((await a.live()).map((i) => i.id), ['a:1:x'], 'read again after a heartbeat period: b is stale')
  await b.beat()

  // holderOf: the live lease's owner, joined to its instance.
  const lease = createLeaseManager({ sql, owner: 'b:1:x', ttlMs: 60_000 })
  t.equal(await a.holderOf('s1'), null, 'no lease: no holder')
  await lease.tryAcquire('s1')
  t.match(await a.holderOf('s1'), { id: 'b:1:x', url: 'http://10.0.0.6:3000' })
  await lease.release('s1')
  t.equal(await a.holderOf('s1'), null, 'released: nobody holds it')

  await b.deregister()
  t.same((await sql`SELECT id FROM whatsapp_instances ORDER BY id`).map((r) => r.id), ['a:1:x'], 'deregister deletes the row')
  t.same((await a.beat()).map((i) => i.id), ['a:1:x'])
  await b.deregister()
  t.pass('deregister twice is harmless')

  // A row dead for over an hour is deleted by the next heartbeat of anyone.
  await sql`INSERT INTO whatsapp_instances (id, url, started_at, heartbeat_at) VALUES ('dead', null, now() - interval '3 hours', now() - interval '2 hours')`
  await a.beat()
  t.same((await sql`SELECT id FROM whatsapp_instances ORDER BY id`).map((r) => r.id), ['a:1:x'], 'long-dead rows forgotten')
})

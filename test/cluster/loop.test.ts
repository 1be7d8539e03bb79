// The cluster's heartbeat loop with a manual clock: placement follows the heartbeat (wake on change),
// discovery every few ticks, and hand-overs to a settled joining instance paced at `batch` per tick
// and never more than `batch` in flight.
import t from 'tap'
import { createClusterLoop } from '../../src/cluster/loop.js'
import { balancedPlacement, createPlacement } from '../../src/cluster/placement.js'
import type { LiveInstance } from '../../src/cluster/registry.js'
import { createManualClock } from '../helpers/manual-clock.js'

const HEARTBEAT = 1000
const instance = (id: string, ageMs: number, heartbeatAgeMs = 0): LiveInstance => ({ id, url: null, flyMachineId: null, startedAt: new Date(0), heartbeatAt: new Date(0), ageMs, heartbeatAgeMs })

t.test('join: hand-overs wait for the settle time, then go `batch` per tick with at most `batch` in flight', async (t) => {
  const clock = createManualClock()
  const placement = createPlacement({ selfId: 'a', settleMs: 2 * HEARTBEAT, unpinGraceMs: 0, clock })
  let live = [instance('a', 60_000)]
  let beats = 0
  let wakes = 0
  let discoveries = 0
  const ids = Array.from({ length: 40 }, (_, i) => `s${i}`)
  const held = new Set(ids)
  /** Hand-overs in flight; the test resolves them. */
  const pending = new Map<string, () => void>()
  const loop = createClusterLoop({
    registry: { beat: async () => { beats++; return live } },
    placement,
    onChange: () => { wakes++ },
    sessions: () => ({
      discover: async () => { discoveries++ },
      known: () => ids,
      held: () => held,
      handOver: (id) => new Promise<void>((resolve) => pending.set(id, () => { held.delete(id); pending.delete(id); resolve() })),
    }),
    heartbeatMs: HEARTBEAT,
    discoverEvery: 3,
    batch: 3,
    clock,
  })
  const settle = () => new Promise((r) => setImmediate(r))
  loop.start()
  await clock.run(0, settle)
  t.equal(beats, 1, 'first heartbeat at once')
  t.equal(wakes, 1, 'placement known: standbys woken')
  t.equal(pending.size, 0, 'alone: nothing to hand over')

  // b joins; it is live but not settled for the first ticks.
  const toB = ids.filter((id) => balancedPlacement(ids, ['a', 'b']).get(id) === 'b')
  t.ok(toB.length > 6, `${toB.length} sessions prefer b`)
  live = [instance('a', 60_000), instance('b', 0)]
  await clock.run(HEARTBEAT, settle)
  t.equal(wakes, 2, 'the new instance woke the standbys')
  t.equal(pending.size, 0, 'b not settled: nothing handed over')
  live = [instance('a', 60_000), instance('b', 2 * HEARTBEAT)]
  await clock.run(HEARTBEAT, settle)
  t.equal(pending.size, 3, 'settled: the first batch of 3')
  t.ok([...pending.keys()].every((id) => toB.includes(id)), 'only sessions placement gives to b')
  await clock.run(HEARTBEAT, settle)
  t.equal(pending.size, 3, 'none started while 3 are in flight')
  t.equal(loop.handOvers(), 3)
  for (const done of [...pending.values()]) done()
  await settle()
  await clock.run(HEARTBEAT, settle)
  t.equal(pending.size, 3, 'next tick: the next 3')
  for (let i = 0; i < 20 && held.size > ids.length - toB.length; i++) {
    for (const done of [...pending.values()]) done()
    await settle()
    await clock.run(HEARTBEAT, settle)
  }
  t.same([...held].sort(), ids.filter((id) => !toB.includes(id)).sort(), 'in the end exactly the sessions placement gives b left a')
  t.equal(loop.handOvers(), toB.length, 'each handed over once')
  t.ok(discoveries >= 3, `discovery ran every 3 ticks (${discoveries} times in ${beats} heartbeats)`)
  t.ok(discoveries <= Math.ceil(beats / 3), 'and not more often')
  await loop.stop()
  t.same(clock.pending(), [], 'no timer left after stop')
})

t.test('a failed heartbeat keeps the last placement and the loop goes on', async (t) => {
  const clock = createManualClock()
  const placement = createPlacement({ selfId: 'a', settleMs: 0, unpinGraceMs: 0, clock })
  let fail = false
  let beats = 0
  const loop = createClusterLoop({
    registry: { beat: async () => { beats++; if (fail) throw new Error('database down'); return [instance('a', 1), instance('b', 1)] } },
    placement, onChange: () => undefined, sessions: () => null, heartbeatMs: HEARTBEAT, discoverEvery: 3, batch: 3, clock,
  })
  const settle = () => new Promise((r) => setImmediate(r))
  loop.start()
  await clock.run(0, settle)
  t.same(placement.instances(), ['a', 'b'])
  fail = true
  await clock.run(HEARTBEAT * 2, settle)
  t.equal(beats, 3, 'still beating')
  t.same(placement.instances(), ['a', 'b'], 'last known instances kept')
  await loop.stop()
})

t.test('an instance whose heartbeat goes stale between two heartbeats here is counted out at that moment', async (t) => {
  const clock = createManualClock()
  const placement = createPlacement({ selfId: 'a', settleMs: 0, unpinGraceMs: 0, freshMs: 3 * HEARTBEAT, clock })
  // b's last heartbeat was 2.5 s old at the first heartbeat here, and b heartbeats no more.
  let live = [instance('a', 1), instance('b', 60_000, 2500)]
  let wakes = 0
  const loop = createClusterLoop({
    registry: { beat: async () => { const out = live; live = [instance('a', 1)]; return out } },
    placement, onChange: () => { wakes++ }, sessions: () => null, heartbeatMs: HEARTBEAT, discoverEvery: 3, batch: 3, clock,
  })
  const settle = () => new Promise((r) => setImmediate(r))
  loop.start()
  await clock.run(0, settle)
  t.equal(wakes, 1)
  await clock.run(499, settle)
  t.same(placement.instances(), ['a', 'b'], 'not stale yet')
  await clock.run(1, settle)
  t.same(placement.instances(), ['a'], 'counted out when its heartbeat is freshMs old')
  t.equal(wakes, 2, 'and the standbys are woken then, 0.5 s before the next heartbeat here')
  await loop.stop()
  t.same(clock.pending(), [], 'no timer left after stop')
})

// Rendezvous placement, pure: balance, the ~1/N moved on a join or a leave, and this instance's view
// (acquire only what it prefers; hand over only to a settled instance; pins). Deterministic ids:
// clients client-0 .. client-(n-1), instances machine-0 .. machine-(n-1). Plain rendezvous places each
// id independently, so the count per instance is binomial: for 60 ids over 3 instances sigma is about
// 3.65, and 20 +- 3 holds for this documented set (22, 18, 20) but only for about 39% of random instance
// id sets (measured over 1000 random sets); real instance ids carry a random suffix.
import t from 'tap'
import { createPlacement, preferredInstance, rendezvousWeight } from '../../src/cluster/placement.js'
import { createManualClock } from '../helpers/manual-clock.js'

const ids = (n: number) => Array.from({ length: n }, (_, i) => `client-${i}`)
const instances = (n: number) => Array.from({ length: n }, (_, i) => `machine-${i}`)

function counts(clients: string[], nodes: string[]): Map<string, number> {
  const out = new Map(nodes.map((n) => [n, 0]))
  for (const c of clients) {
    const p = preferredInstance(c, nodes) as string
    out.set(p, (out.get(p) ?? 0) + 1)
  }
  return out
}

t.test('stable and order-independent', async (t) => {
  const nodes = instances(3)
  t.equal(rendezvousWeight('a', 'x'), rendezvousWeight('a', 'x'))
  t.not(rendezvousWeight('a', 'x'), rendezvousWeight('x', 'a'), 'the pair is not symmetric')
  for (const c of ids(50)) t.equal(preferredInstance(c, nodes), preferredInstance(c, [...nodes].reverse()), c)
  t.equal(preferredInstance('x', []), null)
})

t.test('60 ids over 3 instances (the documented set): 20 ± 3 each', async (t) => {
  const spread = [...counts(ids(60), instances(3)).values()]
  t.comment(`60 ids over 3 instances: ${spread.join(', ')}`)
  t.equal(spread.reduce((a, b) => a + b, 0), 60)
  for (const n of spread) t.ok(n >= 17 && n <= 23, `${n} within 20 ± 3`)
})

t.test('600 ids: adding or removing one of N moves about 1/N, and only to or from that instance', async (t) => {
  const clients = ids(600)
  for (const n of [3, 4, 5]) {
    const before = instances(n)
    const after = instances(n + 1)
    const joined = after[n]
    let moved = 0
    for (const c of clients) {
      const a = preferredInstance(c, before)
      const b = preferredInstance(c, after)
      if (a !== b) {
        moved++
        if (b !== joined) t.fail(`${c} moved ${a} -> ${b}, not to the joining instance`)
      }
    }
    const expected = 600 / (n + 1)
    t.comment(`${n} -> ${n + 1}: ${moved} of 600 moved (1/${n + 1} = ${expected})`)
    t.ok(Math.abs(moved - expected) <= expected * 0.25, `join ${n}->${n + 1}: ${moved} moved, about ${expected}`)
    // Removing the instance again moves exactly its sessions back.
    let back = 0
    for (const c of clients) if (preferredInstance(c, after) === joined) back++
    t.equal(back, moved, 'a leave moves only the leaving instance\'s sessions')
  }
})

t.test('this instance\'s view: acquire what it prefers (dead ones excluded), hand over only to settled instances, pins', async (t) => {
  const clock = createManualClock()
  const [a, b, c] = instances(3)
  const view = createPlacement({ selfId: a, settleMs: 5000, unpinGraceMs: 10_000, clock })
  t.equal(view.preferredElsewhere('client-0'), '', 'nothing is acquired before the first heartbeat answered')
  t.equal(view.handOverTo('client-0'), null)

  t.equal(view.update([{ id: a, ageMs: 60_000 }, { id: b, ageMs: 60_000 }, { id: c, ageMs: 60_000 }]), true, 'first view: changed')
  t.equal(view.update([{ id: c, ageMs: 60_000 }, { id: a, ageMs: 60_000 }, { id: b, ageMs: 60_000 }]), false, 'same set: unchanged')
  for (const id of ids(30)) {
    const p = preferredInstance(id, [a, b, c])
    t.equal(view.preferredElsewhere(id), p === a ? null : p)
    t.equal(view.handOverTo(id), p === a ? null : p)
  }
  // c dies: its sessions go to a or b by rendezvous over the survivors; a tries those it now prefers.
  t.equal(view.update([{ id: a, ageMs: 60_000 }, { id: b, ageMs: 60_000 }]), true)
  const ofC = ids(60).filter((id) => preferredInstance(id, [a, b, c]) === c)
  t.ok(ofC.length > 0)
  const mineNow = ofC.filter((id) => view.preferredElsewhere(id) === null)
  t.ok(mineNow.length > 0 && mineNow.length < ofC.length, `the dead instance's ${ofC.length} sessions spread over the survivors (${mineNow.length} here)`)

  // d joins: a prefers d for some sessions but hands them over only once d has been live settleMs.
  const d = 'machine-9:9:ffff'
  view.update([{ id: a, ageMs: 60_000 }, { id: b, ageMs: 60_000 }, { id: d, ageMs: 1000 }])
  const toD = ids(60).filter((id) => preferredInstance(id, [a, b, d]) === d && preferredInstance(id, [a, b]) === a)
  t.ok(toD.length > 0)
  for (const id of toD) {
    t.equal(view.preferredElsewhere(id), d, 'a no longer tries it')
    t.equal(view.handOverTo(id), null, 'not settled yet: kept')
  }
  view.update([{ id: a, ageMs: 60_000 }, { id: b, ageMs: 60_000 }, { id: d, ageMs: 5000 }])
  for (const id of toD) t.equal(view.handOverTo(id), d, 'settled: handed over')

  // A pinned session (being paired here) stays; after unpin, a grace period, then placement applies.
  const pinnedId = toD[0]
  view.pin(pinnedId)
  t.equal(view.preferredElsewhere(pinnedId), null)
  t.equal(view.handOverTo(pinnedId), null)
  view.unpin(pinnedId)
  clock.advance(9_999)
  t.equal(view.handOverTo(pinnedId), null, 'within the grace period')
  clock.advance(1)
  t.equal(view.handOverTo(pinnedId), d, 'after it')
  view.pin(pinnedId)
  view.drop(pinnedId)
  t.equal(view.handOverTo(pinnedId), d, 'dropped at once')
})

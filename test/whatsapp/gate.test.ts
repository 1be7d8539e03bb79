// The admission gate: at most `limit` holders, first come first served, aborted waiters leave.
import t from 'tap'
import { createGate } from '../../src/whatsapp/gate.js'

t.test('at most limit holders, in arrival order', async (t) => {
  const gate = createGate(2)
  const order: number[] = []
  const releases = await Promise.all([gate.enter(), gate.enter()])
  const waiting = [3, 4, 5].map((n) => gate.enter().then((release) => {
    order.push(n)
    return release
  }))
  await Promise.resolve()
  t.same({ active: gate.active, waiting: gate.waiting }, { active: 2, waiting: 3 })
  releases[0]?.()
  releases[0]?.() // releasing twice gives back one place only
  const third = await waiting[0]
  t.same(order, [3])
  t.same({ active: gate.active, waiting: gate.waiting }, { active: 2, waiting: 2 })
  releases[1]?.()
  third?.()
  const [fourth, fifth] = await Promise.all([waiting[1], waiting[2]])
  t.same(order, [3, 4, 5])
  fourth?.()
  fifth?.()
  t.same({ active: gate.active, waiting: gate.waiting }, { active: 0, waiting: 0 })
})

t.test('a waiter whose signal aborts leaves the queue with nothing to release', async (t) => {
  const gate = createGate(1)
  const held = await gate.enter()
  const ac = new AbortController()
  const aborted = gate.enter(ac.signal)
  const next = gate.enter()
  ac.abort()
  const noop = await aborted
  noop()
  t.same({ active: gate.active, waiting: gate.waiting }, { active: 1, waiting: 1 }, 'the aborted waiter took no place')
  held()
  const release = await next
  t.equal(gate.active, 1)
  release()
  t.equal(gate.active, 0)
  t.equal(typeof (await gate.enter(AbortSignal.abort())), 'function', 'an already aborted signal is not queued')
  t.equal(gate.active, 0)
})

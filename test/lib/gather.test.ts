// Gathering writes: what is added within the window goes out in one write when it closes (on a manual
// clock), drain() writes at once, and a failed write rejects every item it carried.
import t from 'tap'
import { createGatherer } from '../../src/lib/gather.js'
import { createManualClock } from '../helpers/manual-clock.js'

t.test('items of one window are written together when it closes', async (t) => {
  const clock = createManualClock()
  const writes: number[][] = []
  const g = createGatherer<number>({ ms: 50, clock, write: async (items) => void writes.push(items) })
  const added = [g.add(1), g.add(2)]
  t.same(clock.pending(), [50], 'the first item opens a 50 ms window')
  clock.advance(49)
  const third = g.add(3)
  t.same(writes, [], 'nothing written before the window closes')
  clock.advance(1)
  await Promise.all([...added, third])
  t.same(writes, [[1, 2, 3]], 'one write for the three')
  const fourth = g.add(4)
  t.same(clock.pending(), [50], 'the next item opens a new window')
  clock.advance(50)
  await fourth
  t.same(writes, [[1, 2, 3], [4]])
})

t.test('drain writes what is gathered at once and waits for it', async (t) => {
  const clock = createManualClock()
  const writes: string[][] = []
  let release = () => {}
  const g = createGatherer<string>({
    ms: 50, clock, write: (items) => new Promise<void>((resolve) => { writes.push(items); release = resolve }),
  })
  const a = g.add('a')
  let drained = false
  const draining = g.drain().then(() => { drained = true })
  t.same(writes, [['a']], 'written without waiting for the window')
  t.same(clock.pending(), [], 'its timer is cleared')
  await Promise.resolve()
  t.notOk(drained, 'drain waits for the write under way')
  release()
  await Promise.all([a, draining])
  t.ok(drained)
  await g.drain()
  t.same(writes, [['a']], 'draining with nothing gathered writes nothing')
})

t.test('a failed write rejects every item it carried; the next window writes again', async (t) => {
  const clock = createManualClock()
  let fail = true
  const g = createGatherer<number>({ ms: 10, clock, write: async () => { if (fail) throw new Error('database down') } })
  const items = [g.add(1), g.add(2)]
  clock.advance(10)
  const results = await Promise.allSettled(items)
  t.same(results.map((r) => r.status), ['rejected', 'rejected'])
  t.match((results[0] as PromiseRejectedResult).reason, { message: 'database down' })
  fail = false
  const next = g.add(3)
  clock.advance(10)
  await t.resolves(next)
})

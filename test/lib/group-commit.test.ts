// Group commit: items submitted while a commit is in flight go out together in the next one; with a
// linger, each commit waits for it first, and what arrives meanwhile joins.
import t from 'tap'
import { createGroupCommit } from '../../src/lib/group-commit.js'
import { createManualClock } from '../helpers/manual-clock.js'

const tick = () => new Promise((resolve) => setImmediate(resolve))

t.test('items queued behind a commit in flight go out together in the next', async (t) => {
  const commits: number[][] = []
  let release = () => {}
  const g = createGroupCommit<number>((items) => new Promise<void>((resolve) => {
    commits.push(items)
    release = resolve
  }))
  const first = g.submit(1)
  const rest = [g.submit(2), g.submit(3)]
  t.same(commits, [[1]], 'the first goes out at once')
  release()
  await first
  await tick()
  t.same(commits, [[1], [2, 3]], 'the two that waited share the next commit')
  release()
  await Promise.all(rest)
})

t.test('a linger holds each commit; items arriving meanwhile join it', async (t) => {
  const clock = createManualClock()
  const commits: number[][] = []
  let lingering = true
  let release = () => {}
  const g = createGroupCommit<number>(
    (items) => new Promise<void>((resolve) => {
      commits.push(items)
      release = resolve
    }),
    { linger: () => (lingering ? new Promise<void>((resolve) => clock.setTimeout(resolve, 3)) : null) },
  )
  const waited = [g.submit(1), g.submit(2)]
  t.same(clock.pending(), [3], 'one wait, not one per item')
  await tick()
  t.same(commits, [], 'nothing committed during the wait')
  clock.advance(3)
  await tick()
  t.same(commits, [[1, 2]])
  const behind = [g.submit(3)]
  release()
  await Promise.all(waited)
  await tick()
  t.same(clock.pending(), [3], 'the next commit waits too')
  behind.push(g.submit(4))
  clock.advance(3)
  await tick()
  t.same(commits, [[1, 2], [3, 4]], 'and takes what arrived meanwhile')
  release()
  await Promise.all(behind)

  lingering = false
  await tick()
  const alone = g.submit(5)
  t.same(commits, [[1, 2], [3, 4], [5]], 'no linger: it commits at once')
  release()
  await alone
})

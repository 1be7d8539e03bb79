import t from 'tap'
import { groupBy } from '../../src/lib/group-by.js'

t.test('groups keep first-appearance order and the items\' order inside each group', async (t) => {
  const groups = groupBy([{ c: 'b', n: 1 }, { c: 'a', n: 2 }, { c: 'b', n: 3 }], (i) => i.c)
  t.same([...groups.keys()], ['b', 'a'])
  t.same(groups.get('b')?.map((i) => i.n), [1, 3])
  t.same(groups.get('a')?.map((i) => i.n), [2])
  t.equal(groupBy([], (i: number) => i).size, 0)
})

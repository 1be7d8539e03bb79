// The batch read of many sessions' last sequence numbers (one statement, for idle delivery checks).
import t from 'tap'
import { createPostgresOutbox } from '../../src/events/store/postgres.js'
import type { NewEvent } from '../../src/events/types.js'
import { createMigratedDatabase, queryCounter } from '../helpers/db.js'
import { createSql } from '../../src/db/index.js'

const event = (n: number): NewEvent => ({ type: 'session.status', timestamp: new Date(0).toISOString(), data: { n } })

t.test('lastSeqs answers every session that has events, in one statement', async (t) => {
  const { url } = await createMigratedDatabase(t, 'wa_last_seqs')
  const counter = queryCounter()
  const sql = createSql(url, { max: 2, debug: counter.debug })
  t.teardown(() => sql.end({ timeout: 1 }))
  const outbox = createPostgresOutbox({ sql })
  await outbox.append('a', [event(1), event(2), event(3)])
  await outbox.append('b', [event(1)])
  counter.reset()
  const seqs = await outbox.lastSeqs!(['a', 'b', 'none'])
  t.same([...seqs.entries()].sort(), [['a', 3], ['b', 1]], 'a session without events is absent')
  t.equal(counter.queries.length, 1, 'one statement for all of them')
  t.same([...(await outbox.lastSeqs!([])).entries()], [], 'no ids: nothing')
})

// A connection reset while postgres.js reads the array types (the first statement on every new
// connection) fails the caller's query and nothing else: no unhandled rejection, which would end the
// server process. tap fails this file on any unhandled rejection.
import t from 'tap'
import { createSql } from '../../src/db/index.js'
import { ADMIN_URL, createTestDatabase } from '../helpers/db.js'
import { createTcpProxy } from '../helpers/tcp-proxy.js'

t.test('a reset during the array-types query fails that query only; the next one connects again', async (t) => {
  const { url } = await createTestDatabase(t, 'wa_conn_reset')
  const admin = new URL(ADMIN_URL)
  let resets = 0
  // The first connection that sends the driver's array-types query is reset.
  const resetWhen = (chunk: Buffer) => resets === 0 && chunk.includes('typarray') && ++resets > 0
  const proxy = await createTcpProxy({ target: { host: admin.hostname, port: Number(admin.port || 5432) }, resetWhen })
  t.teardown(() => proxy.close())
  const sql = createSql(proxy.url(url), { max: 1 })
  t.teardown(() => sql.end({ timeout: 1 }))

  const first = await sql`SELECT 1 AS one`.then(() => null, (err: NodeJS.ErrnoException) => err)
  t.equal(resets, 1, 'the proxy reset the connection on the types query')
  t.equal(first?.code, 'ECONNRESET', 'the query that opened the connection fails with the reset')
  t.same([...await sql`SELECT 2 AS two`], [{ two: 2 }], 'a new connection answers')
  // An unhandled rejection is reported after the current turn: give it several.
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
})

// A connection reset while postgres.js reads the array types (the first statement on every new
// connection) fails the caller's query and nothing else: no unhandled rejection, which would end the
// server process. tap fails this file on any unhandled rejection.
import t from 'tap'
import net from 'node:net'
import { createSql } from '../../src/db/index.js'
import { ADMIN_URL, createTestDatabase } from '../helpers/db.js'

/** Forwards to Postgres; the first connection that sends the driver's array-types query is reset. */
async function resetOnTypesQuery(target: URL): Promise<{ url: (u: string) => string; resets: () => number; close: () => Promise<void> }> {
  let resets = 0
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname)
    sockets.add(client).add(upstream)
    const end = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
    client.on('data', (chunk) => {
      if (resets === 0 && chunk.includes('typarray')) {
        resets++
        client.resetAndDestroy()
        upstream.destroy()
        return
      }
      upstream.write(chunk)
    })
    upstream.on('data', (chunk) => client.write(chunk))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  return {
    url(u) {
      const url = new URL(u)
      url.hostname = '127.0.0.1'
      url.port = String(port)
      return url.toString()
    },
    resets: () => resets,
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

t.test('a reset during the array-types query fails that query only; the next one connects again', async (t) => {
  const { url } = await createTestDatabase(t, 'wa_conn_reset')
  const proxy = await resetOnTypesQuery(new URL(ADMIN_URL))
  t.teardown(() => proxy.close())
  const sql = createSql(proxy.url(url), { max: 1 })
  t.teardown(() => sql.end({ timeout: 1 }))

  const first = await sql`SELECT 1 AS one`.then(() => null, (err: NodeJS.ErrnoException) => err)
  t.equal(proxy.resets(), 1, 'the proxy reset the connection on the types query')
  t.equal(first?.code, 'ECONNRESET', 'the query that opened the connection fails with the reset')
  t.same([...await sql`SELECT 2 AS two`], [{ two: 2 }], 'a new connection answers')
  // An unhandled rejection is reported after the current turn: give it several.
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
})

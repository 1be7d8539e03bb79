// What the store keeps and reports: deleting unknown sessions leaves nothing behind in memory, and a
// write the database failed is counted as a database error even though the mirror carried it.
import t from 'tap'
import v8 from 'node:v8'
import vm from 'node:vm'
import { createSessionStore } from '../../src/keystore/index.js'
import { createMetrics } from '../../src/plugins/metrics.js'
import { migratedDatabase } from '../helpers/db.js'
import { createTcpProxy } from '../helpers/tcp-proxy.js'
import { tempFolder } from './fixtures/tmp.js'

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

t.test('deleting 10,000 unknown sessions does not grow the heap', async (t) => {
  const { sessions } = await tempFolder(t)
  const store = await createSessionStore({ sessionPath: sessions })
  t.teardown(() => store.close())
  for (let i = 0; i < 200; i++) await store.delete(`warm-${i}`)
  t.equal(await store.delete('warm-0'), false, 'an unknown session: nothing deleted')
  gc()
  const before = process.memoryUsage().heapUsed
  for (let i = 0; i < 10_000; i++) await store.delete(`unknown-${i}`)
  gc()
  const grown = process.memoryUsage().heapUsed - before
  t.ok(grown < 2 * 1024 * 1024, `heap grew ${(grown / 1024).toFixed(0)} KB over 10,000 deletes (a map entry per id would be ~20 MB)`)
})

t.test('a write the database failed counts in whatsapp_db_errors_total (the mirror carried it)', async (t) => {
  const { url } = await migratedDatabase(t)
  const { sessions } = await tempFolder(t)
  const u = new URL(url)
  const proxy = await createTcpProxy({ target: { host: u.hostname, port: Number(u.port || 5432) } })
  t.teardown(() => proxy.close())
  const metrics = createMetrics()
  const store = await createSessionStore({
    sessionPath: sessions,
    databaseUrl: proxy.url(url),
    database: { connectTimeout: 1, probe: { timeoutMs: 2000, baseMs: 60_000 } },
    onWrite: metrics.onWrite,
  })
  t.teardown(() => store.close())
  const h = await store.open('m')
  await h.saveCreds()
  const value = async (name: string, labels = '') =>
    Number(new RegExp(`^${name}${labels.replace(/[{}]/g, '\\$&')} (\\d+)`, 'm').exec(await metrics.registry.metrics())?.[1] ?? 0)
  t.equal(await value('whatsapp_db_errors_total'), 0)
  proxy.cut()
  await h.state.keys.set({ session: { a: Buffer.from('a') } })
  t.equal(h.health().degraded, true, 'the mirror carried the write')
  t.equal(await value('whatsapp_db_errors_total'), 1, 'the failed database write is counted')
  t.equal(await value('whatsapp_store_writes_total', '{backend="file",result="ok"}'), 1, 'the write itself landed, in the file')
  await h.state.keys.set({ session: { b: Buffer.from('b') } })
  t.equal(await value('whatsapp_db_errors_total'), 1, 'writes while degraded do not try the database')
  proxy.restore()
})

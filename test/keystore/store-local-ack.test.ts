// Postgres mode with acknowledge: 'local': a write is acknowledged once the mirror fsynced it and reaches
// the database right after, in order; closing the store ships everything.
import t from 'tap'
import { rm } from 'node:fs/promises'
import { createSessionStore } from '../../src/keystore/index.js'
import { migratedDatabase } from '../db/helpers.js'
import { tempFolder } from './fixtures/tmp.js'

t.test('local acknowledgement ships every write to the database in order', async (t) => {
  const { url, sql } = await migratedDatabase(t)
  const { sessions } = await tempFolder(t)
  const store = await createSessionStore({ sessionPath: sessions, databaseUrl: url, acknowledge: 'local' })
  const h = await store.open('alice')
  const writes: unknown[] = []
  for (let i = 0; i < 300; i++) {
    writes.push(h.state.keys.set({ session: { [`s${i % 40}`]: Buffer.from(`v${i}`) } }))
    if (i % 9 === 0) writes.push(h.state.keys.set({ session: { [`s${(i + 5) % 40}`]: null } }))
  }
  await Promise.all(writes)
  const version = h.health().version
  await store.close()
  const [row] = await sql`SELECT version_seq FROM whatsapp_sessions WHERE client_id = 'alice'`
  t.equal(Number(row.version_seq), version, 'the database reached the last acknowledged version')
  await rm(sessions, { recursive: true, force: true })
  const again = await createSessionStore({ sessionPath: sessions, databaseUrl: url })
  t.teardown(() => again.close())
  const h2 = await again.open('alice')
  const want = (h as unknown as { snapshot(): { keys: Map<string, Map<string, unknown>> } }).snapshot().keys.get('session')
  const got = await h2.state.keys.get('session', [...(want?.keys() ?? [])])
  t.equal(Object.keys(got).length, want?.size, 'same keys from the database alone')
  for (const [id, value] of want ?? []) t.same(got[id], value, id)
})

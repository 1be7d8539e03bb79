// The API in Postgres mode (real database per file): storage reported everywhere it matters, /ready
// reflects the database, and cleanup removes mirror files of sessions the database no longer has.
import t from 'tap'
import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createSql, migrate } from '../../src/db/index.js'
import { createTestDatabase } from '../helpers/db.js'
import { testApp, waitFor } from '../app/helpers.js'

t.test('Postgres mode end to end through the API (no WhatsApp)', async (t) => {
  const { url } = await createTestDatabase(t)
  const sql = createSql(url)
  await migrate(sql)
  await sql.end()

  const app = await testApp(t, { DATABASE_URL: url })
  t.equal(app.store.mode, 'postgres')
  const ready = await app.inject('/ready')
  t.equal(ready.statusCode, 200)
  t.same({ status: ready.json().status, storage: ready.json().storage, db: ready.json().databaseReachable }, { status: 'ready', storage: 'postgres', db: true })

  await waitFor(() => app.sessions.get('default').storeHealth() !== null, 3000)
  const info = (await app.inject('/api/whatsapp/session-info')).json()
  t.equal(info.storage.mode, 'postgres')
  t.equal(info.storage.databaseReachable, true)
  t.equal(info.storage.degraded, false)

  const list = await app.inject('/api/whatsapp/sessions')
  t.equal(list.statusCode, 200)
  t.equal(list.json().storage, 'postgres')

  // A mirror file whose session is in neither the database nor running here is an orphan.
  await writeFile(join(app.config.sessionPath, 'ghost.json'), '{}')
  const cleanup = await app.inject({ method: 'POST', url: '/api/whatsapp/cleanup-sessions' })
  t.equal(cleanup.statusCode, 200)
  t.same(cleanup.json().removed, [{ file: 'ghost.json', reason: 'orphan' }])
  t.notOk((await readdir(app.config.sessionPath)).includes('ghost.json'))

  const metrics = await app.inject('/metrics')
  t.match(metrics.body, /whatsapp_db_up 1/)
})

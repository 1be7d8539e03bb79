import t from 'tap'
import postgres from 'postgres'
import { createTestDatabase } from './db.js'

t.test('createTestDatabase gives an empty, usable database', async (t) => {
  const { url, name } = await createTestDatabase(t)
  const sql = postgres(url, { max: 1 })
  t.teardown(() => sql.end())
  const [row] = await sql`select current_database() as db`
  t.equal(row.db, name)
})

// A per-test-file database with every migration applied, and a pool on it ended at teardown.
import { createTestDatabase } from '../helpers/db.js'
import { createSql, migrate, type Sql } from '../../src/db/index.js'

interface Teardown { teardown(fn: () => unknown): void }

export async function migratedDatabase(t: Teardown, prefix = 'wa_ks'): Promise<{ url: string; name: string; sql: Sql }> {
  const db = await createTestDatabase(t, prefix)
  const sql = createSql(db.url, { max: 2 })
  t.teardown(() => sql.end({ timeout: 1 }))
  await migrate(sql)
  return { ...db, sql }
}

/** Counts statements sent through a pool created with this hook as its `debug` option. */
export function queryCounter() {
  const queries: string[] = []
  return {
    debug: (_connection: number, query: string) => {
      const text = query.replace(/\s+/g, ' ').trim()
      // postgres.js reads the array types once per new connection: set-up, not a statement of ours.
      if (!/^select b\.oid, b\.typarray from pg_catalog\.pg_type/i.test(text)) queries.push(text)
    },
    queries,
    reset() {
      queries.length = 0
    },
  }
}

// The migration files: db/migrations/NNN_name.sql, applied in NNN order, forward-only.
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { migrationsDir } from './paths.js'

export interface Migration {
  /** "001" */
  version: string
  /** "001_sessions.sql" */
  file: string
  sql: string
  /** Tables the file creates (to recognise a migration pasted into Supabase's SQL editor by hand). */
  tables: string[]
}

const FILE = /^(\d{3,})_[a-z0-9_]+\.sql$/

export async function readMigrations(dir: string = migrationsDir()): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => FILE.test(f)).sort()
  const out: Migration[] = []
  for (const file of files) {
    const sql = await readFile(join(dir, file), 'utf8')
    const version = (FILE.exec(file) as RegExpExecArray)[1]
    if (out.some((m) => m.version === version)) throw new Error(`Two migrations share version ${version} in ${dir}.`)
    const tables = [...sql.matchAll(/CREATE TABLE IF NOT EXISTS\s+([a-z_][a-z0-9_]*)/gi)].map((m) => m[1].toLowerCase())
    out.push({ version, file, sql, tables })
  }
  return out
}

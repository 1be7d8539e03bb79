// Finds db/migrations from this module's location: src/db/ under tsx, dist/src/db/ when compiled.
// Walks up to the folder holding package.json (the repo root, or /app in the image).
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export function projectRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir
    const parent = dirname(dir)
    if (parent === dir) throw new Error('package.json not found above the db module; cannot locate db/migrations.')
    dir = parent
  }
}

export function migrationsDir(): string {
  return join(projectRoot(), 'db', 'migrations')
}

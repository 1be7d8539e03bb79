// Small file helpers shared by the lease folder lock and the message stores. Create-if-absent for files that act as claims (a folder lock, an idempotency key): the
// create itself is the claim (O_EXCL), and the content is synced before anyone is told it exists.
import { open, readdir } from 'node:fs/promises'

/** Creates the file only if it does not exist yet (false when it does); owner-only and durable. */
export async function createExclusive(path: string, data: string, mode = 0o600): Promise<boolean> {
  let handle
  try {
    handle = await open(path, 'wx', mode)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
  try {
    await handle.writeFile(data)
    await handle.sync()
  } finally {
    await handle.close()
  }
  return true
}

/** The names in a folder; none when the folder does not exist (yet). */
export async function readdirIfExists(path: string): Promise<string[]> {
  try {
    return await readdir(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
}

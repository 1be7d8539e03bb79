// Small file helpers for the file-mode stores (messages, idempotency keys, queue) under
// SESSION_PATH/.messages: file names from ids that may hold any character, atomic writes, JSON reads.
import { createHash, randomBytes } from 'node:crypto'
import { open, readFile, rename, unlink } from 'node:fs/promises'
import { ensureDir, FILE_MODE, isNotFound, replaceFiles } from '../keystore/file/fsio.js'

export { ensureDir, isNotFound }
export { createExclusive } from '../lib/small-files.js'

/** A file-name-safe form of an id: the id itself when plain, else its SHA-256. */
export function fileKey(id: string): string {
  return /^[A-Za-z0-9_-]{1,100}$/.test(id) ? id : createHash('sha256').update(id).digest('hex')
}

/** Replaces the file atomically; durable (fsynced file and folder) unless `durable` is false. */
export async function writeFileAtomic(path: string, data: string, durable = true): Promise<void> {
  if (durable) return replaceFiles([{ path, data }])
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`
  const handle = await open(tmp, 'wx', FILE_MODE)
  try {
    await handle.writeFile(data)
  } finally {
    await handle.close()
  }
  await rename(tmp, path).catch(async (err: unknown) => {
    await unlink(tmp).catch(() => undefined)
    throw err
  })
}

export async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T
  } catch (err) {
    if (isNotFound(err)) return null
    throw err
  }
}

export async function removeFile(path: string): Promise<void> {
  await unlink(path).catch((err: unknown) => {
    if (!isNotFound(err)) throw err
  })
}

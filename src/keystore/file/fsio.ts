// The few durable file operations the backend is built from: atomic replace (temp file in the same
// folder, write, fsync, rename, fsync the folder), appends made durable with fdatasync, and moving a
// damaged file aside without ever overwriting anything.
import { randomBytes } from 'node:crypto'
import { link, mkdir, open, rename, stat, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import { corruptName, tempName } from './paths.js'

export const FILE_MODE = 0o600
export const DIR_MODE = 0o700

export function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT'
}

/** Creates the folder (0700) if missing; a newly created folder is made durable in its parent. */
export async function ensureDir(path: string): Promise<void> {
  const first = await mkdir(path, { recursive: true, mode: DIR_MODE })
  if (first === undefined) return
  for (let dir = path; ; dir = dirname(dir)) {
    await fsyncDir(dirname(dir))
    if (dir === first || dirname(dir) === dir) break
  }
}

/** Makes renames and unlinks in the folder durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Writes `data` to a new temp file beside `path` (mode 0600) and fsyncs it; returns the temp path. */
export async function writeTemp(path: string, data: string | Buffer): Promise<string> {
  const tmp = tempName(path, randomBytes(4).toString('hex'))
  const handle = await open(tmp, 'wx', FILE_MODE)
  try {
    await handle.writeFile(data)
    await handle.sync()
  } catch (err) {
    await handle.close().catch(() => {})
    await unlink(tmp).catch(() => {})
    throw err
  }
  await handle.close()
  return tmp
}

/** Atomically replaces several files in one folder: all temps are durable before the first rename. */
export async function replaceFiles(files: Array<{ path: string; data: string | Buffer }>): Promise<void> {
  const temps: string[] = []
  try {
    for (const f of files) temps.push(await writeTemp(f.path, f.data))
    // In order: callers rely on it (the snapshot lands before the journal that depends on it).
    for (let i = 0; i < files.length; i++) await rename(temps[i], files[i].path)
  } catch (err) {
    await Promise.all(temps.map((t) => unlink(t).catch(() => {})))
    throw err
  }
  await fsyncDir(dirname(files[0].path))
}

/** Moves `path` to `<path>.corrupt-<timestamp>`, never replacing an existing file. Returns the new path. */
export async function moveAside(path: string, at: Date): Promise<string> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const target = corruptName(path, at, attempt)
    try {
      await link(path, target) // fails with EEXIST instead of overwriting, unlike rename
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EEXIST') continue
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw err
      // File systems without hard links: check, then rename (single writer per folder).
      if (await stat(target).then(() => true, () => false)) continue
      await rename(path, target)
      await fsyncDir(dirname(path))
      return target
    }
    await unlink(path)
    await fsyncDir(dirname(path))
    return target
  }
  throw new Error('could not find a free name to quarantine a damaged session file')
}

/** Removes the files that exist, in order, and makes the removal durable. Whether any existed. */
export async function removeFiles(paths: string[]): Promise<boolean> {
  let existed = false
  for (const path of paths) {
    try {
      await unlink(path)
      existed = true
    } catch (err) {
      if (!isNotFound(err)) throw err
    }
  }
  if (existed) await fsyncDir(dirname(paths[0]))
  return existed
}

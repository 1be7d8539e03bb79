// File mode has no lease across machines. What it can do is stop two processes on one host from
// using the same SESSION_PATH folder (two sockets on one account, two writers on one file): a
// `.lock` file created with O_EXCL holding the owner's pid, hostname, boot id and process start time.
// A lock is stale, and taken over, when on this host its pid is dead, was reused by another process
// (different start time) or the host rebooted; a lock from another hostname (shared volume) is
// stale once its holder stopped refreshing its mtime for staleAfterMs.
import { mkdir, readFile, rm, stat, utimes } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { hostname as osHostname } from 'node:os'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { createExclusive } from '../lib/small-files.js'

export interface LockOwner {
  pid: number
  hostname: string
  startedAt: string
  /** Linux: /proc/sys/kernel/random/boot_id and the process start time in clock ticks since boot. */
  bootId?: string
  procStart?: string
}

export interface FolderLockOptions {
  logger?: Logger
  /** How often the holder touches the lock file. Default 10 000 ms. */
  refreshEveryMs?: number
  /** A lock from another host whose mtime is older than this is stale. Default 60 000 ms. */
  staleAfterMs?: number
}

export interface FolderLock {
  readonly path: string
  readonly owner: LockOwner
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): Promise<void>
}

export class SessionFolderLockedError extends Error {
  readonly code = 'SESSION_FOLDER_LOCKED'
  constructor(readonly lockPath: string, readonly holder: LockOwner | null) {
    super(holder
      ? `session folder is in use by pid ${holder.pid} on ${holder.hostname} since ${holder.startedAt} (lock file ${lockPath}); stop that process, or delete the lock file if it is gone`
      : `session folder is locked by another process (lock file ${lockPath} is being written)`)
    this.name = 'SessionFolderLockedError'
  }
}

const LOCK_FILE = '.lock'
/** A lock or takeover file with no readable content this old was left by a crashed writer. */
const UNREADABLE_STALE_MS = 5_000

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return undefined
  }
}

/** Field 22 of /proc/<pid>/stat (starttime), after the parenthesised command name. */
function procStart(pid: number): string | undefined {
  const stat = readProc(`/proc/${pid}/stat`)
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function parseOwner(text: string): LockOwner | null {
  try {
    const v = JSON.parse(text) as Partial<LockOwner>
    return Number.isInteger(v.pid) && typeof v.hostname === 'string' && typeof v.startedAt === 'string'
      ? (v as LockOwner) : null
  } catch {
    return null
  }
}

function isStale(holder: LockOwner | null, ageMs: number, me: LockOwner, staleAfterMs: number): boolean {
  if (!holder) return ageMs > UNREADABLE_STALE_MS
  if (holder.hostname !== me.hostname) return ageMs > staleAfterMs
  if (holder.bootId && me.bootId && holder.bootId !== me.bootId) return true
  if (!pidAlive(holder.pid)) return true
  const now = procStart(holder.pid)
  return Boolean(holder.procStart && now && holder.procStart !== now)
}

async function readLock(path: string): Promise<{ text: string; ageMs: number } | null> {
  try {
    const [text, st] = await Promise.all([readFile(path, 'utf8'), stat(path)])
    return { text, ageMs: Date.now() - st.mtimeMs }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}

/**
 * Takes the folder's lock or throws SessionFolderLockedError naming the pid that holds it.
 * Creates the folder (0700) if missing. Two processes racing for a stale lock serialise on `.lock.takeover`.
 */
export async function acquireFolderLock(folder: string, options: FolderLockOptions = {}): Promise<FolderLock> {
  await mkdir(folder, { recursive: true, mode: 0o700 })
  const path = join(folder, LOCK_FILE)
  const takeoverPath = `${path}.takeover`
  const staleAfterMs = options.staleAfterMs ?? 60_000
  const me: LockOwner = {
    pid: process.pid,
    hostname: osHostname(),
    startedAt: new Date().toISOString(),
    bootId: readProc('/proc/sys/kernel/random/boot_id'),
    procStart: procStart(process.pid),
  }
  const content = JSON.stringify(me)

  for (let attempt = 0; attempt < 50; attempt++) {
    if (await createExclusive(path, content)) return held(path, me, content, options)
    const current = await readLock(path)
    if (!current) continue
    const holder = parseOwner(current.text)
    if (!isStale(holder, current.ageMs, me, staleAfterMs)) throw new SessionFolderLockedError(path, holder)
    if (!(await createExclusive(takeoverPath, content))) {
      const other = await readLock(takeoverPath)
      if (other && other.ageMs > UNREADABLE_STALE_MS) await rm(takeoverPath, { force: true })
      await new Promise((r) => setTimeout(r, 20))
      continue
    }
    try {
      // Re-read under the takeover lock: only remove the very file we judged stale.
      const again = await readLock(path)
      if (again?.text === current.text) {
        options.logger?.warn({ lockPath: path, stalePid: holder?.pid }, 'taking over a stale session folder lock')
        await rm(path, { force: true })
      }
    } finally {
      await rm(takeoverPath, { force: true })
    }
  }
  throw new SessionFolderLockedError(path, null)
}

function held(path: string, owner: LockOwner, content: string, options: FolderLockOptions): FolderLock {
  // Refreshing the mtime tells other hosts sharing the volume that the holder is alive.
  const refresh = setInterval(() => {
    const now = new Date()
    utimes(path, now, now).catch((err: unknown) => options.logger?.warn({ err, lockPath: path }, 'lock refresh failed'))
  }, options.refreshEveryMs ?? 10_000)
  refresh.unref()
  let released: Promise<void> | null = null
  return {
    path,
    owner,
    release() {
      released ??= (async () => {
        clearInterval(refresh)
        const current = await readLock(path)
        if (current?.text === content) await rm(path, { force: true })
      })()
      return released
    },
  }
}

// The two cleanups operators call over the API. Both never touch a session that runs on this server.
//  - local files: stale temporary files, quarantined .corrupt-* files once past their retention (they
//    are the only recoverable copy of what was damaged), and (Postgres mode) mirror files of sessions
//    the database deleted (store.list() leaves them out; a file that never reached the database is
//    listed, since opening it copies it up);
//  - old sessions: stored sessions not updated for N days (dry run by default).
import { rm } from 'node:fs/promises'
import { scanSessionFolder, type FileInfo } from '../keystore/file/index.js'
import type { SessionStore, StoredSession } from '../keystore/types.js'

/** A temp file younger than this may belong to a write in progress (rename pending). */
const TEMP_GRACE_MS = 10 * 60_000

/** Quarantined files are kept as long as inactive sessions are (CLEANUP_INACTIVE_AFTER_DAYS; 0 = forever). */
export function corruptRetentionMs(inactiveAfterDays: number): number | null {
  return inactiveAfterDays > 0 ? inactiveAfterDays * 86_400_000 : null
}

/** The retention when the caller gives none: the default of CLEANUP_INACTIVE_AFTER_DAYS. */
const DEFAULT_CORRUPT_RETENTION_MS = corruptRetentionMs(30)

export interface LocalCleanupResult {
  removed: { file: string; reason: 'temp' | 'corrupt' | 'orphan' }[]
  kept: string[]
  errors: { file: string; message: string }[]
}

export async function cleanupLocalFiles(options: {
  sessionPath: string
  store: SessionStore
  isRunning: (clientId: string) => boolean
  /** Quarantined .corrupt-* files younger than this are kept; default 30 days. null: none go. */
  corruptOlderThanMs?: number | null
  now?: Date
}): Promise<LocalCleanupResult> {
  const { sessionPath, store, isRunning } = options
  const now = (options.now ?? new Date()).getTime()
  const result: LocalCleanupResult = { removed: [], kept: [], errors: [] }
  const scan = await scanSessionFolder(sessionPath)
  // In file mode the files are the store: a session file is a stored session by definition.
  const stored = store.mode === 'postgres' ? new Set((await store.list()).map((s) => s.clientId)) : null

  const doomed: { file: FileInfo; reason: 'temp' | 'corrupt' | 'orphan' }[] = []
  for (const file of scan.tempFiles) if (now - file.mtime.getTime() > TEMP_GRACE_MS) doomed.push({ file, reason: 'temp' })
  const corruptAge = options.corruptOlderThanMs === undefined ? DEFAULT_CORRUPT_RETENTION_MS : options.corruptOlderThanMs
  for (const file of scan.corruptFiles) {
    if (corruptAge !== null && now - file.mtime.getTime() >= corruptAge) doomed.push({ file, reason: 'corrupt' })
    else result.kept.push(file.name)
  }
  for (const session of scan.sessions) {
    const files = [session.snapshot, session.journal].filter((f): f is FileInfo => f !== null)
    const orphan = stored !== null && !isRunning(session.clientId) && !stored.has(session.clientId)
    for (const file of files) {
      if (orphan) doomed.push({ file, reason: 'orphan' })
      else result.kept.push(file.name)
    }
  }
  for (const { file, reason } of doomed) {
    try {
      await rm(file.path, { force: true })
      result.removed.push({ file: file.name, reason })
    } catch (err) {
      result.errors.push({ file: file.name, message: (err as NodeJS.ErrnoException).code ?? 'could not remove' })
    }
  }
  return result
}

export interface OldSessionsResult {
  dryRun: boolean
  cutoff: string
  removed: Pick<StoredSession, 'clientId' | 'status' | 'updatedAt'>[]
  skippedRunning: string[]
}

export async function cleanupOldSessions(options: {
  store: SessionStore
  isRunning: (clientId: string) => boolean
  /** A session another instance runs (its lease is live): counted as running. */
  heldElsewhere?: (clientId: string) => Promise<boolean>
  olderThanDays: number
  dryRun: boolean
  /** Only sessions in these states (the automatic cleanup never deletes linked, active ones). Default: all. */
  statuses?: readonly StoredSession['status'][]
  now?: Date
}): Promise<OldSessionsResult> {
  const { store, isRunning, olderThanDays, dryRun, statuses } = options
  const cutoff = new Date((options.now ?? new Date()).getTime() - olderThanDays * 86_400_000)
  const result: OldSessionsResult = { dryRun, cutoff: cutoff.toISOString(), removed: [], skippedRunning: [] }
  for (const session of await store.list()) {
    if (new Date(session.updatedAt).getTime() >= cutoff.getTime()) continue
    if (statuses && !statuses.includes(session.status)) continue
    if (isRunning(session.clientId) || (await options.heldElsewhere?.(session.clientId))) {
      result.skippedRunning.push(session.clientId)
      continue
    }
    if (!dryRun) await store.delete(session.clientId)
    result.removed.push({ clientId: session.clientId, status: session.status, updatedAt: session.updatedAt })
  }
  return result
}

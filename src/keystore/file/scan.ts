// What is in a session folder, for the API's cleanup endpoint: stale temp files (a write killed before
// its rename), quarantined files, and each session's snapshot and journal. Pure: it decides nothing.
// snapshotIds is the cheap form for listing: names only, no stat per file.
import type { Dirent } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { isNotFound } from './fsio.js'
import { classify } from './paths.js'

export interface FileInfo {
  name: string
  path: string
  size: number
  mtime: Date
}

export interface SessionFolderScan {
  sessions: Array<{ clientId: string; snapshot: FileInfo | null; journal: FileInfo | null }>
  tempFiles: FileInfo[]
  corruptFiles: Array<FileInfo & { clientId: string | null }>
  /** Anything else (not written by this backend). */
  other: FileInfo[]
}

/** Lists SESSION_PATH (an absent folder is empty). Sorted by name; sizes and mtimes from one stat each. */
export async function scanSessionFolder(sessionPath: string): Promise<SessionFolderScan> {
  const scan: SessionFolderScan = { sessions: [], tempFiles: [], corruptFiles: [], other: [] }
  let names: string[]
  try {
    names = (await readdir(sessionPath)).sort()
  } catch (err) {
    if (isNotFound(err)) return scan
    throw err
  }
  const byClient = new Map<string, SessionFolderScan['sessions'][number]>()
  for (const name of names) {
    const path = join(sessionPath, name)
    let info: FileInfo
    try {
      const s = await stat(path)
      if (!s.isFile()) continue
      info = { name, path, size: s.size, mtime: s.mtime }
    } catch (err) {
      if (isNotFound(err)) continue // removed while we looked
      throw err
    }
    const kind = classify(name)
    if (kind.kind === 'temp') scan.tempFiles.push(info)
    else if (kind.kind === 'corrupt') scan.corruptFiles.push({ ...info, clientId: kind.clientId })
    else if (kind.kind === 'other') scan.other.push(info)
    else {
      let entry = byClient.get(kind.clientId)
      if (!entry) byClient.set(kind.clientId, (entry = { clientId: kind.clientId, snapshot: null, journal: null }))
      entry[kind.kind] = info
    }
  }
  scan.sessions = [...byClient.values()]
  return scan
}

/**
 * The client ids that have a snapshot file in SESSION_PATH, sorted (an absent folder has none). One
 * readdir and no stat: cluster discovery lists the stored sessions every LEASE_TTL_MS.
 */
export async function snapshotIds(sessionPath: string): Promise<string[]> {
  let entries: Dirent[]
  try {
    entries = await readdir(sessionPath, { withFileTypes: true })
  } catch (err) {
    if (isNotFound(err)) return []
    throw err
  }
  const ids: string[] = []
  for (const entry of entries) {
    const kind = classify(entry.name)
    if (kind.kind !== 'snapshot') continue
    // A symbolic link counts when it leads to a file, as the full scan's stat sees it.
    if (entry.isFile() || (entry.isSymbolicLink() && (await stat(join(sessionPath, entry.name)).then((s) => s.isFile(), () => false)))) ids.push(kind.clientId)
  }
  return ids.sort()
}

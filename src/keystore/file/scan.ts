// What is in a session folder, for the API's cleanup endpoint: stale temp files (a write killed before
// its rename), quarantined files, and each session's snapshot and journal. Pure: it decides nothing.
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

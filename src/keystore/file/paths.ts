// Names of everything a session owns in SESSION_PATH, and the client-id check that keeps those names
// inside the folder. One place decides what a file is, so listing, cleanup and quarantine agree.
import { join } from 'node:path'
import { assertClientId, isValidClientId } from '../../lib/client-id.js'

export { InvalidClientIdError, isValidClientId, assertClientId } from '../../lib/client-id.js'

export const SNAPSHOT_SUFFIX = '.json'
export const JOURNAL_SUFFIX = '.journal'
const TEMP = /\.tmp-[A-Za-z0-9-]+$/
const CORRUPT = /^(.+)\.(json|journal)\.corrupt-[A-Za-z0-9-]+$/

export function sessionPaths(sessionPath: string, clientId: string) {
  assertClientId(clientId)
  return {
    snapshot: join(sessionPath, clientId + SNAPSHOT_SUFFIX),
    journal: join(sessionPath, clientId + JOURNAL_SUFFIX),
  }
}

export type SessionPaths = ReturnType<typeof sessionPaths>

/** A temporary name in the same folder (so rename is atomic), unique per process and call. */
export function tempName(path: string, nonce: string): string {
  return `${path}.tmp-${process.pid}-${nonce}`
}

/** `2024-05-01T10-00-00-000Z`: sortable, and valid in file names everywhere. */
export function corruptName(path: string, at: Date, attempt = 0): string {
  return `${path}.corrupt-${at.toISOString().replace(/[:.]/g, '-')}${attempt ? `-${attempt}` : ''}`
}

export type FileKind =
  | { kind: 'snapshot'; clientId: string }
  | { kind: 'journal'; clientId: string }
  | { kind: 'temp' }
  | { kind: 'corrupt'; clientId: string | null }
  | { kind: 'other' }

/** What a name in SESSION_PATH is. Suffixes are checked from the end, so odd client ids cannot pose as temp files. */
export function classify(name: string): FileKind {
  if (TEMP.test(name)) return { kind: 'temp' }
  const corrupt = CORRUPT.exec(name)
  if (corrupt) return { kind: 'corrupt', clientId: isValidClientId(corrupt[1]) ? corrupt[1] : null }
  for (const [suffix, kind] of [[SNAPSHOT_SUFFIX, 'snapshot'], [JOURNAL_SUFFIX, 'journal']] as const) {
    if (name.endsWith(suffix)) {
      const clientId = name.slice(0, -suffix.length)
      if (isValidClientId(clientId)) return { kind, clientId }
    }
  }
  return { kind: 'other' }
}

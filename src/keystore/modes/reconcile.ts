// Postgres mode's decision at open, as a pure function of what the database and the mirror hold: which
// copy the session starts from, and what must be written to bring the other level. Nothing is read or
// written here, so verify() can ask the same question without changing anything.
//
// A mirror file records which database and which life (incarnation) of the session's row it copies.
//  - database row and mirror of the same life (or a mirror that never reached a database): newer wins;
//  - a mirror of an earlier life, or of a session this database deleted: never used, never copied up;
//  - a mirror that never reached this database: copied up (a move from file mode, or an outage at birth),
//    unless a tombstone says the session was deleted at that version or later.
// A copy with a damaged value is replaced from the other copy when that one is intact and as new.
import type { Codec } from '../codec.js'
import { CorruptValueError } from '../crypto.js'
import { decodeState, withCodecKeyIds, type EncodedSession } from '../encoded.js'
import type { FileState } from '../file/index.js'
import type { DatabaseCopy } from '../postgres/index.js'
import { compareVersions, type SessionState, type SessionVersion } from '../state.js'

export interface OpenPlan {
  /** The state to start from; null: a new session. */
  state: SessionState | null
  /** A new session's versions start above this (the tombstone's, or the discarded mirror's). */
  floor: SessionVersion
  /** The chosen copy, in this codec's key-id scheme (what the other side gets). */
  chosen: EncodedSession | null
  /** Replace the database copy with `chosen`; create: the row may be created. */
  writeDatabase: { create: boolean } | null
  /** Replace the mirror with `chosen`. */
  writeMirror: boolean
  /** The mirror copies a session the database no longer has: delete it. */
  removeMirror: boolean
  /** The database row (after the writes) exists: writes update it instead of creating it. */
  inDatabase: boolean
  /** What happened, for the log; a damaged copy is also named in `repaired`. */
  message: string | null
  repaired: CorruptValueError | null
}

type Attempt = { state: SessionState; enc: EncodedSession } | { error: CorruptValueError }

/** Decodes a copy; a damaged value is an answer here, not an exception (the other copy may be intact). */
function attempt(codec: Codec, enc: EncodedSession | null): Attempt | null {
  if (!enc) return null
  if (enc.creds === null) return { error: new CorruptValueError('the "creds" value is missing', enc.clientId, 'creds') }
  try {
    const converted = withCodecKeyIds(codec, enc)
    return { state: decodeState(codec, { ...converted, creds: enc.creds }), enc: converted }
  } catch (err) {
    if (err instanceof CorruptValueError) return { error: err }
    throw err
  }
}

const ZERO: SessionVersion = { epoch: 0, seq: 0 }
const max = (a: SessionVersion, b: SessionVersion | null) => (b && compareVersions(b, a) > 0 ? b : a)

/** `databaseId/incarnation`: what a mirror of this database row records. */
export function mirrorMarker(databaseId: string, incarnation: string): string {
  return `${databaseId}/${incarnation}`
}

/**
 * A mirror file this database no longer has: it recorded this database, or a tombstone is as new as it.
 * Such a file is never copied up (the session was deleted); any other one is (it never reached this database).
 */
export function deletedFromDatabase(local: { database: string | null; version: SessionVersion }, tombstone: SessionVersion | null | undefined, databaseId: string): boolean {
  return local.database?.startsWith(`${databaseId}/`) === true || (tombstone != null && compareVersions(local.version, tombstone) <= 0)
}

export function planOpen(codec: Codec, db: DatabaseCopy, local: FileState | null, databaseId: string): OpenPlan {
  const plan = choose(codec, db, local, databaseId)
  // A copy stored with clear key ids while encryption is on is rewritten with hashed ones.
  if (plan.chosen) {
    if (db.session && db.session.keyIds !== codec.keyIds) plan.writeDatabase ??= { create: false }
    if (local && local.keyIds !== codec.keyIds) plan.writeMirror = true
    if (plan.writeDatabase && plan.writeMirror && !plan.message) plan.message = 'session key ids stored as keyed hashes'
  }
  return plan
}

function choose(codec: Codec, db: DatabaseCopy, local: FileState | null, databaseId: string): OpenPlan {
  const row = db.session
  if (row) codec.verifyKeyCheck(row.keyCheck, row.clientId)
  const fromDb = attempt(codec, row)
  const fromMirror = local && local.creds !== null ? attempt(codec, local) : null
  const plan: OpenPlan = {
    state: null, floor: db.tombstone ?? ZERO, chosen: null, writeDatabase: null, writeMirror: false,
    removeMirror: false, inDatabase: row !== null, message: null, repaired: null,
  }
  const use = (a: { state: SessionState; enc: EncodedSession }, message: string | null) => {
    plan.state = a.state
    plan.chosen = a.enc
    plan.message = message
    return plan
  }

  if (!row || !fromDb) {
    if (!local) return plan
    if (!fromMirror || deletedFromDatabase(local, db.tombstone, databaseId)) {
      // No creds (debris of a half-written file), or a copy of a session this database deleted.
      plan.removeMirror = true
      plan.floor = max(local.version, db.tombstone)
      if (fromMirror) plan.message = 'the database no longer has this session (deleted): its local mirror is removed, never copied up'
      return plan
    }
    if ('error' in fromMirror) throw fromMirror.error
    plan.writeDatabase = { create: true }
    plan.inDatabase = true
    return use(fromMirror, 'session copied up from the local file to the database')
  }

  const sameLife = local?.database === mirrorMarker(databaseId, row.incarnation)
  const usableMirror = fromMirror && (sameLife || local?.database === null) ? fromMirror : null
  if (!usableMirror || !local) {
    if ('error' in fromDb) throw fromDb.error
    plan.writeMirror = true
    if (fromMirror && 'error' in fromMirror) plan.repaired = fromMirror.error
    const why = !local
      ? 'session copied from the database to the local mirror'
      : plan.repaired
        ? 'local mirror damaged: rewritten from the database'
        : 'local mirror of an earlier life of this session (or another database): rewritten from the database'
    return use(fromDb, why)
  }

  const cmp = compareVersions(row.version, local.version)
  if ('error' in fromDb) {
    if ('error' in usableMirror || cmp > 0) throw fromDb.error
    plan.writeDatabase = { create: false }
    plan.repaired = fromDb.error
    return use(usableMirror, 'database copy damaged: rewritten from the intact local mirror')
  }
  if ('error' in usableMirror) {
    if (cmp < 0) throw usableMirror.error
    plan.writeMirror = true
    plan.repaired = usableMirror.error
    return use(fromDb, 'local mirror damaged: rewritten from the database')
  }
  if (cmp > 0) {
    plan.writeMirror = true
    return use(fromDb, 'database newer than the mirror: mirror brought level')
  }
  if (cmp < 0) plan.writeDatabase = { create: false }
  // The mirror's strings are what its file keeps in memory too: starting from them shares them.
  return use(usableMirror, cmp < 0 ? 'mirror newer than the database: database brought level' : null)
}

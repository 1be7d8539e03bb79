// What differs between the storage modes, behind one interface: how a session is opened (loaded,
// checked, reconciled) and where its writes go, plus listing and deleting stored sessions. Two
// implementations: file.ts (the files are the store) and mirrored.ts (Postgres, mirrored to files).
import { createGroupCommit } from '../../lib/group-commit.js'
import type { Codec } from '../codec.js'
import { encodeDirty, type EncodedBatch } from '../encoded.js'
import { isEmptyDirty, mergeDirty } from '../memory.js'
import type { Dirty, SessionState } from '../state.js'
import type { StorageMode, StoredSession } from '../types.js'

export interface SinkHealth {
  degraded: boolean
  databaseReachable: boolean | null
  pendingCatchUp: boolean
}

/** Where a write landed, and whether the database was tried and failed (the write then landed in the mirror). */
export interface WriteResult {
  landed: StorageMode
  databaseFailed: boolean
}

/** Where one open session's writes go. */
export interface Sink {
  /** Persists what `dirty` names under the next version; durable when it resolves. */
  write(dirty: Dirty): Promise<WriteResult>
  /** Deletes everything stored for the session: the database first, then the files. */
  remove(): Promise<boolean>
  health(): SinkHealth
  /** Waits for writes, stops background work, releases the files. `discard`: the session is being deleted, write nothing more. */
  close(options?: { discard?: boolean }): Promise<void>
}

/** How Postgres mode treats a slow or absent database. */
export interface ProbePolicy {
  /** First retry after this long (default 1000 ms), doubling up to maxMs. */
  baseMs: number
  maxMs: number
  /** A database call slower than this counts as an outage (default 10 s). */
  timeoutMs: number
}

export const DEFAULT_PROBE: ProbePolicy = { baseMs: 1000, maxMs: 15_000, timeoutMs: 10_000 }

export interface Opened {
  state: SessionState
  sink: Sink
}

export interface Mode {
  readonly mode: StorageMode
  /** Reads each stored copy once; throws the typed errors verify() does (StoreDataError) before changing anything. */
  open(clientId: string, options: { fencingToken?: number }): Promise<Opened>
  list(): Promise<StoredSession[]>
  /** Database first (nothing changes when it is unreachable), then `discardOpen` (the open handle, if any), then files. */
  delete(clientId: string, discardOpen: () => Promise<void>): Promise<boolean>
  /** Reads what is stored without writing; throws what open() would for the data. */
  verify(clientId: string): Promise<void>
  preflight(): Promise<void>
  ping(): Promise<boolean | null>
  close(): Promise<void>
}

/**
 * The write queue both modes' sinks are built on: writes are group-committed, each commit advances the
 * version by the number of writes it carries and encodes the touched keys once, from the state as it
 * is then. A commit that fails carries its keys into the next one (their values are in memory). A group
 * that changes nothing (deletes of absent keys) commits nothing: it settles once the writes before it
 * have, with `unchanged()`.
 */
export function createWriteQueue(o: {
  state: SessionState
  codec: Codec
  commit: (batch: EncodedBatch) => Promise<WriteResult>
  /** What a write that changes nothing reports. */
  unchanged: () => WriteResult
}) {
  const { state, codec } = o
  let carry: Dirty | null = null
  return createGroupCommit<Dirty, WriteResult>(async (items) => {
    if (carry === null && state.stored && items.every(isEmptyDirty)) return o.unchanged()
    const dirty = mergeDirty([carry, ...items])
    if (!state.stored) dirty.creds = true // a new session's first write brings its creds
    state.version = { epoch: state.version.epoch, seq: state.version.seq + items.length }
    const at = new Date().toISOString()
    state.updatedAt = at
    const batch = encodeDirty(codec, state, dirty, state.version, at)
    carry = dirty
    const result = await o.commit(batch)
    carry = null
    state.stored = true
    return result
  })
}

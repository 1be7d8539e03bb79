// The internal contract between the session store (src/keystore/store.ts, which keeps the live state
// in memory and answers Baileys) and its durable backends (file: src/keystore/file/, Postgres:
// src/keystore/postgres/). Both backends implement SessionBackend; the store composes them
// (file mode: file only; Postgres mode: Postgres is the source of truth, file is its mirror).
import type { AuthenticationCreds, SignalDataSet } from '@whiskeysockets/baileys'
import type { SessionStatus, StoredSession } from './types.js'

/**
 * Which side of a session is newer. Compared lexicographically: epoch first (the lease fencing token
 * under which the state was written; 0 without a lease), then seq (incremented by every write).
 * A state written under an older lease never wins against a newer lease, whatever its seq.
 */
export interface SessionVersion {
  epoch: number
  seq: number
}

/** type -> id -> live value (Buffers, protobuf objects revived), exactly what keys.get returns. */
export type KeyMap = Map<string, Map<string, unknown>>

export interface SessionSnapshot {
  clientId: string
  creds: AuthenticationCreds
  keys: KeyMap
  version: SessionVersion
  status: SessionStatus
  jid: string | null
  createdAt: string
  updatedAt: string
}

/** One durable write: what changed, and the version the session has after it. */
export interface WriteBatch {
  creds?: AuthenticationCreds
  /** null values delete. */
  keys?: SignalDataSet
  status?: SessionStatus
  jid?: string | null
  version: SessionVersion
}

export interface SessionBackend {
  readonly kind: 'file' | 'postgres'
  /** The whole session, decoded, or null when none is stored. Throws on a wrong encryption key. */
  load(clientId: string): Promise<SessionSnapshot | null>
  /** Durable when it resolves (fsync / commit). Throws on failure. One append or one round trip. */
  apply(clientId: string, batch: WriteBatch, options?: { fencingToken?: number }): Promise<void>
  /** Replace everything stored for the session with this snapshot (migration, catch-up). */
  replace(clientId: string, snapshot: SessionSnapshot, options?: { fencingToken?: number }): Promise<void>
  /** Delete the session. Returns whether anything existed. */
  remove(clientId: string): Promise<boolean>
  list(): Promise<StoredSession[]>
  close(): Promise<void>
}

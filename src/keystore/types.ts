// The keystore's public contract. Everything above src/keystore/ (session manager, routes,
// scripts) depends on these types only, never on SQL or files.
import type { AuthenticationState } from '@whiskeysockets/baileys'
import type { Logger } from 'pino'
import type { Sql } from '../db/connection.js'

export type StorageMode = 'file' | 'postgres'

/** What an operator needs to know about where a session lives and whether writes are safe. */
export interface StoreHealth {
  mode: StorageMode
  /** Postgres mode: the database is unreachable and writes land in the file mirror only. */
  degraded: boolean
  /** null in file mode. */
  databaseReachable: boolean | null
  /** The session's JSON file (the store itself in file mode, the mirror in Postgres mode). */
  mirrorPath: string
  /** ISO time of the last write that was made durable, or null. */
  lastWriteAt: string | null
  /** Monotonic version of the session state, carried by both the file and the database. */
  version: number
  /** Lease epoch (fencing token) the state was written under; 0 without a lease. Compared before version. */
  epoch?: number
  encryption: boolean
  /** Writes made while degraded that the database has not received yet. */
  pendingCatchUp: boolean
}

export type SessionStatus = 'active' | 'inactive' | 'logged_out'

/** A stored session as listed to operators: never key material. */
export interface StoredSession {
  clientId: string
  status: SessionStatus
  jid: string | null
  createdAt: string
  updatedAt: string
  location: StorageMode
}

/** One open session's Baileys auth state plus the operations the server needs on it. */
export interface AuthStateHandle {
  /** Pass to makeWASocket({ auth: state }). creds is mutated by Baileys; call saveCreds on creds.update. */
  state: AuthenticationState
  /** Persist state.creds (durable before it resolves). */
  saveCreds(): Promise<void>
  /** Record the session's status and account JID (the whatsapp_sessions row / file header). */
  setStatus(status: SessionStatus, jid?: string | null): Promise<void>
  health(): StoreHealth
  /** Number of stored keys by type (no key material). */
  keyCounts(): Promise<Record<string, number>>
  /** Delete everything stored for this session (logged out): database rows first, then the file. */
  wipe(): Promise<void>
  /** Flush pending writes and release resources. Idempotent. */
  close(): Promise<void>
}

export interface OpenOptions {
  /** Fencing token of the lease under which this handle writes (Postgres mode): a write lands only while the lease row carries it. */
  fencingToken?: number
}

/** Created once per process: owns the database pool (if any) and the session folder. */
export interface SessionStore {
  readonly mode: StorageMode
  open(clientId: string, options?: OpenOptions): Promise<AuthStateHandle>
  list(): Promise<StoredSession[]>
  /**
   * Delete a stored session: the database first (its rows, leaving a tombstone so no stale copy brings
   * it back), then an open handle (closed without writing), then its files. Returns whether anything
   * existed. While the database is unreachable it throws StoreUnavailableError and changes nothing.
   */
  delete(clientId: string): Promise<boolean>
  /**
   * Reads what is stored for a session without changing it and throws the typed error open() would
   * (WRONG_ENCRYPTION_KEY, ENCRYPTION_KEY_REQUIRED, SESSION_NOT_ENCRYPTED, CORRUPT_VALUE). open() reads
   * each copy once and throws the same errors before changing anything, so a caller about to open need
   * not verify first. An unreachable database is not an error here.
   */
  verify(clientId: string): Promise<void>
  /**
   * One cheap check before the server listens, instead of reading every session: the configured
   * encryption key matches what stored sessions were written with (one query in Postgres mode, one
   * session file in file mode; the schema is checked when the store is created). Throws a
   * StoreDataError; an unreachable database is not an error here (sessions then report it one by one).
   */
  preflight(): Promise<void>
  /** Database reachable right now (null in file mode). Cheap. */
  ping(): Promise<boolean | null>
  close(): Promise<void>
}

export interface SessionStoreOptions {
  /** Folder of SESSION_PATH/{clientId}.json files: the store in file mode, the mirror in Postgres mode. */
  sessionPath: string
  /** Postgres connection string; absent = file mode. */
  databaseUrl?: string
  /**
   * A pool to borrow instead of opening one from databaseUrl (the server shares its pool); the store
   * never ends it. databaseUrl must still be given: it selects Postgres mode.
   */
  sql?: Sql
  /** 32 bytes, base64 or hex: AES-256-GCM at rest in both the database and the file, key ids stored as keyed hashes. */
  encryptionKey?: string
  logger?: Logger
  /** Tuning for tests and benchmarks (Postgres mode): pool size, connect timeout and query hook (a pool the store opens itself), outage probe. */
  database?: {
    max?: number
    connectTimeout?: number
    debug?: (connection: number, query: string, parameters: unknown[]) => void
    probe?: { baseMs?: number; maxMs?: number; timeoutMs?: number }
  }
  /** Called after each keystore call (metrics). */
  onWrite?: (event: WriteEvent) => void
}

export interface WriteEvent {
  /** Where the call was served or the write landed ('file' while Postgres mode runs degraded). */
  backend: StorageMode
  ok: boolean
  seconds: number
  op: 'get' | 'set' | 'creds'
  /** The database was tried for this write and failed (timeout, connection lost); the mirror carried it. */
  databaseFailed?: boolean
}

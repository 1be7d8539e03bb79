// The session lease's public contract. A lease is one row per client id in whatsapp_session_leases
// (db/migrations/002): who holds it, until when (database clock), and a fencing token that increases
// every time the lease changes hands. Keystore writes carry the token.
import type { Logger } from 'pino'
import type { Sql } from 'postgres'
import type { Clock } from '../lib/clock.js'

/** The part of a postgres.js `Sql` the lease uses: tagged templates only (pooler-safe). */
export type LeaseSql = Sql

/** The lease's clock: monotonic time and timers (src/lib/clock.ts), injectable so tests control them. */
export type LeaseClock = Clock

export interface LeaseManagerOptions {
  sql: LeaseSql
  /** Unique per process (see defaultLeaseOwner): two processes must never share an owner id. */
  owner: string
  /** Lease duration, database clock. Default 10 000 ms. */
  ttlMs?: number
  /** Heartbeat period: every lease this manager holds is renewed by one statement this often. Default ttlMs / 3. */
  renewEveryMs?: number
  /** Longest wait between two acquisition attempts in standby. Default ttlMs / 5. */
  pollEveryMs?: number
  /**
   * A holder declares the lease lost this long before it could expire (measured from the local
   * monotonic time the last successful statement was sent). Leaves the caller time to close its
   * socket. Default ttlMs / 5.
   */
  safetyMarginMs?: number
  /** A lease statement that takes longer than this counts as failed. Default ttlMs / 3. */
  statementTimeoutMs?: number
  logger?: Logger
  clock?: LeaseClock
  /**
   * Placement (a cluster of instances): null when this instance may try to acquire the client id's
   * lease now, else the id of the instance that should hold it ('' while placement is not known yet).
   * A standby held back this way issues no statement; it is asked again every pollEveryMs and at wake().
   * Absent: every standby tries every lease.
   */
  preferredElsewhere?: (clientId: string) => string | null
}

export type AcquireResult =
  | { held: true; fencingToken: number; expiresAt: Date; takeovers: number; owner: string }
  | { held: false; holder: string | null; fencingToken: number | null; expiresAt: Date | null; takeovers: number }

/** A row as read from the table, for session-info ("standby: held by X until Y"). */
export interface LeaseRow {
  clientId: string
  owner: string
  fencingToken: number
  expiresAt: Date
  acquiredAt: Date
  renewedAt: Date
  takeovers: number
  /** expires_at > now() on the database clock. */
  live: boolean
}

export type LeaseRole = 'standby' | 'holder' | 'stopped'

/** Snapshot exposed for session-info and metrics. */
export interface LeaseState {
  clientId: string
  /** Our own owner id. */
  owner: string
  role: LeaseRole
  /** Token we hold under (role 'holder'), else the current holder's token if known. */
  fencingToken: number | null
  /** Who holds the lease: us when role is 'holder', another owner (or null if none/unknown) in standby. */
  holder: string | null
  /** When the lease expires on the database clock, if known. */
  expiresAt: Date | null
  /** Times the lease changed hands (the row's counter, all instances together). */
  takeovers: number
  /** This holder's own counters. */
  acquisitions: number
  renewals: number
  renewFailures: number
  losses: number
  /** Last error of a lease statement, as a message (no connection strings). */
  lastError: string | null
  /**
   * In standby because placement gives the session to another instance: its id ('' while placement is
   * not known yet); null when this instance tries the lease.
   */
  deferredTo?: string | null
}

export type LostReason = 'taken' | 'deadline' | 'expired'

export interface HoldOptions {
  /**
   * Called once we hold the lease (again): open the socket now, and open the key store with
   * { fencingToken }. Not awaited by the heartbeat; errors are logged.
   */
  onAcquired?: (info: { fencingToken: number; expiresAt: Date }) => void | Promise<void>
  /**
   * Called BEFORE the lease can expire when it cannot be renewed in time (or another owner has it):
   * close the socket now. The holder then goes back to standby and may call onAcquired again.
   */
  onLost: (info: { fencingToken: number; reason: LostReason }) => void | Promise<void>
  /** Every state change (metrics). */
  onStateChange?: (state: Readonly<LeaseState>) => void
  /** Aborting stops the holder (without release; call stop({ release: true }) for a hand-over). */
  signal?: AbortSignal
}

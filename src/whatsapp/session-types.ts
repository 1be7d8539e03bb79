// The shapes a Session shows to the rest of the server (status, events) and the options it is built
// with; no Baileys here, so schemas, metrics and the manager can use them without loading the socket.
import type { Logger } from 'pino'
import type { AuthStateHandle, OpenOptions } from '../keystore/types.js'
import type { LeaseState, LostReason } from '../lease/types.js'
import type { BackoffOptions } from '../lib/backoff.js'
import type { Clock } from '../lib/clock.js'
import type { SessionState } from '../lib/session-states.js'
import type { StoreDataError } from '../lib/store-errors.js'
import type { SessionReporter } from './observers.js'

export interface LastDisconnect {
  code: number | null
  reason: string
  at: string
}

export interface SessionLeaseStatus {
  role: LeaseState['role']
  /** This instance's owner id. */
  owner: string
  holder: string | null
  fencingToken: number | null
  expiresAt: string | null
  takeovers: number
}

export interface SessionStatusSnapshot {
  clientId: string
  state: SessionState
  account: { jid: string; name: string | null } | null
  connectedSince: string | null
  lastDisconnect: LastDisconnect | null
  reconnect: { attempt: number; nextRetryAt: string | null }
  qrAvailable: boolean
  startedAt: string
  /** The session lease (Postgres mode), null without one. In standby: who holds it and until when. */
  lease: SessionLeaseStatus | null
}

/** The part of a LeaseHolder (src/lease) a session drives: start, stop (releasing or not), read its state. */
export interface SessionLease {
  start(): void
  stop(options?: { release?: boolean }): Promise<boolean>
  readonly state: Readonly<LeaseState>
}

export interface SessionLeaseHandlers {
  onAcquired(info: { fencingToken: number }): Promise<void>
  onLost(info: { fencingToken: number; reason: LostReason }): Promise<void>
  onStateChange(state: Readonly<LeaseState>): void
}

export interface SessionOptions {
  clientId: string
  /** Opens (or re-opens after a logout wipe) the stored auth state: SessionStore.open(clientId, options). */
  openHandle: (options: OpenOptions) => Promise<AuthStateHandle>
  /**
   * The session lease (Postgres mode): the session stays in standby until onAcquired, opens the store
   * under the fencing token, and closes its socket on onLost. Without it the session connects at once.
   */
  lease?: (handlers: SessionLeaseHandlers) => SessionLease
  logger: Logger
  reconnect: BackoffOptions
  qrTimeoutMs: number
  /** Test/dev override of the WhatsApp websocket URL. */
  waWsUrl?: string
  /** Source of jitter, injectable so tests can pin delays. */
  random?: () => number
  /** Timers of the reconnect backoff and the logout bound (tests drive them). Default: the system clock. */
  clock?: Clock
  /** The manager's observers, bound to this session (default: nobody listens). */
  reporter?: SessionReporter
  /**
   * Bounds how many sessions open their store and connect at once (a restart, a takeover of many
   * leases): the first connection after start() or a lease acquisition waits to be admitted and holds
   * its place until that attempt has an outcome. Resolves with the function that gives the place back.
   */
  admission?: (signal: AbortSignal) => Promise<() => void>
}

/** How the first connection attempt after start() ended (the resume queue frees its slot on it). */
export interface SessionSettled {
  state: SessionState
  /** The stored session cannot be used with this configuration: the session stopped itself. */
  error?: StoreDataError
}

export interface SessionEvents {
  state: [next: SessionState, prev: SessionState]
  qr: [expiresAt: Date]
  /** newLogin: the account was linked (QR or pairing code) by this connection rather than restored. */
  open: [info: { jid: string; newLogin: boolean }]
  disconnect: [info: LastDisconnect]
  loggedOut: []
  replaced: []
  /** The stored session could not be opened (wrong key, corrupt value): the session stopped itself. */
  fatal: [error: StoreDataError]
  /** The lease state changed (a standby learnt who holds it, for instance). */
  leaseState: []
}

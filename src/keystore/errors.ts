// Errors the store raises itself (the codec's encryption errors live in crypto.ts, the schema check's in
// src/db/schema.ts). Each has a stable code; no message carries a connection string or key material.
import { StoreUnavailableError } from '../lib/store-errors.js'

/**
 * The lease this handle writes under is no longer the current one: another instance took the session
 * over. Nothing was written and nothing was acknowledged. Not a database outage: never retried locally.
 */
export class StaleFencingTokenError extends Error {
  readonly code = 'STALE_FENCING_TOKEN'
  constructor(readonly clientId: string, readonly fencingToken: number) {
    super(
      `Session "${clientId}" is now held by another instance (fencing token ${fencingToken} is stale); ` +
        'this write was rejected and nothing was changed.',
    )
    this.name = 'StaleFencingTokenError'
  }
}

/** The database holds a newer state of the session than the one this write or catch-up builds on. */
export class VersionConflictError extends Error {
  readonly code = 'VERSION_CONFLICT'
  constructor(readonly clientId: string) {
    super(`The database holds a newer state of session "${clientId}" than this instance; nothing was overwritten.`)
    this.name = 'VersionConflictError'
  }
}

/** Postgres mode, database unreachable and no local mirror to start from: refusing to invent a session. */
export class SessionUnavailableError extends StoreUnavailableError {
  override readonly code = 'SESSION_STORE_UNAVAILABLE'
  constructor(readonly clientId: string) {
    super(
      `The database is unreachable and session "${clientId}" has no local mirror, so it cannot be opened ` +
        'without risking a fresh login over a stored one; retry when the database answers.',
    )
    this.name = 'SessionUnavailableError'
  }
}

/**
 * The session was deleted from the database (by another instance or an operator) while this handle had
 * it open, or before a catch-up could write it back: nothing was written, and this handle writes no more,
 * so a deleted session never comes back from a stale copy.
 */
export class SessionDeletedError extends Error {
  readonly code = 'SESSION_DELETED'
  constructor(readonly clientId: string) {
    super(`Session "${clientId}" was deleted from the database; this write was refused and nothing was changed.`)
    this.name = 'SessionDeletedError'
  }
}

/** A handle used after close() or wipe(). */
export class HandleClosedError extends Error {
  readonly code = 'SESSION_HANDLE_CLOSED'
  constructor(readonly clientId: string) {
    super(`The store handle of session "${clientId}" is closed.`)
    this.name = 'HandleClosedError'
  }
}

/** The same client id is already open in this store. */
export class SessionAlreadyOpenError extends Error {
  readonly code = 'SESSION_ALREADY_OPEN'
  constructor(readonly clientId: string) {
    super(`Session "${clientId}" is already open in this process; close its handle first.`)
    this.name = 'SessionAlreadyOpenError'
  }
}

/** The database refused a handle for good (another lease holder, a newer state, a deletion): never an outage, never retried. */
export function isRefusal(err: unknown): err is StaleFencingTokenError | VersionConflictError | SessionDeletedError {
  return err instanceof StaleFencingTokenError || err instanceof VersionConflictError || err instanceof SessionDeletedError
}

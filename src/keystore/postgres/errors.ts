// Telling a database outage (fall back to the mirror, probe, catch up later) from every other failure
// (a constraint, a stale lease, a wrong key: never "retry when the database is back"), and keeping
// row contents out of the errors the backend throws.

/** Node socket errors: the server is not there, or the path to it broke. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
])

/** postgres.js connection states (CONNECTION_CLOSED, CONNECTION_ENDED, CONNECTION_DESTROYED, CONNECT_TIMEOUT). */
const DRIVER_CODES = new Set(['CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED'])

/**
 * Server-side SQLSTATEs meaning "not now" rather than "not this": class 08 (connection exception),
 * 57P01-57P03 (admin/crash shutdown, cannot connect now: a restart or failover), 53300 (too many
 * connections, a saturated pooler).
 */
function isOutageState(state: string): boolean {
  return state.startsWith('08') || state === '57P01' || state === '57P02' || state === '57P03' || state === '53300'
}

/** True when err (or any error it wraps) says the database could not be reached or the link dropped. */
export function isConnectionError(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 4) return false
  const e = err as { code?: unknown; sqlState?: unknown; name?: unknown; errors?: unknown; cause?: unknown }
  const code = typeof e.code === 'string' ? e.code : ''
  if (SOCKET_CODES.has(code) || DRIVER_CODES.has(code)) return true
  // postgres.js puts the SQLSTATE in `code`; our scrubbed DatabaseError keeps it in `sqlState`.
  if (/^[0-9A-Z]{5}$/.test(code) && isOutageState(code)) return true
  if (typeof e.sqlState === 'string' && isOutageState(e.sqlState)) return true
  if (e.name === 'TimeoutError') return true
  // Node's happy-eyeballs connect (localhost -> ::1 and 127.0.0.1) fails with an AggregateError.
  if (Array.isArray(e.errors) && e.errors.some((x) => isConnectionError(x, depth + 1))) return true
  return e.cause !== undefined && isConnectionError(e.cause, depth + 1)
}

/**
 * A database error without its `detail`, `where` and parameters, which can quote row contents (creds,
 * key values): callers log errors whole.
 */
export class DatabaseError extends Error {
  constructor(message: string, readonly code: string | undefined, readonly sqlState: string | undefined) {
    super(message)
    this.name = 'DatabaseError'
  }
}

/** Runs fn; a server-side error comes out as a DatabaseError (message and SQLSTATE only). */
export async function scrubbed<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (err && typeof err === 'object' && 'severity' in err) {
      const e = err as { message?: string; code?: string }
      throw new DatabaseError(`database error: ${e.message ?? 'unknown'}`, 'DATABASE_ERROR', e.code)
    }
    throw err
  }
}

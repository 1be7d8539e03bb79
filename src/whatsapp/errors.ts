// Domain errors raised by sessions and the manager. They carry the same codes as the HTTP error
// catalogue (src/errors.ts) so the API maps them without the session code knowing about HTTP.
export type SessionErrorCode =
  | 'SESSION_NOT_FOUND'
  | 'STORED_SESSION_NOT_FOUND'
  | 'SESSION_EXISTS'
  | 'SESSION_NOT_OPEN'
  | 'ALREADY_CONNECTED'
  | 'PAIRING_NOT_AVAILABLE'
  | 'SESSION_STOPPED'
  | 'SEND_FAILED'
  | 'INVALID_PHONE'
  | 'UNSUPPORTED_RECIPIENT'
  | 'INVALID_CLIENT_ID'
  | 'LEASE_HELD_ELSEWHERE'
  | 'SESSION_UNREADABLE'
  | 'SESSION_LIMIT_REACHED'
  | 'STORE_UNAVAILABLE'

export class SessionError extends Error {
  constructor(
    readonly code: SessionErrorCode,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.name = 'SessionError'
  }
}

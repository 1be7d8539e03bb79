// The client id rule in one place: it names a session in the API, a database row and a file in
// SESSION_PATH, so it must be safe as a file name (no separators, no dot names, bounded length).
export const CLIENT_ID_MAX_LENGTH = 128
export const CLIENT_ID_PATTERN = '^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$'
export const CLIENT_ID_RULE = 'clientId must be 1-128 letters, digits, ".", "_" or "-", not starting with "."'

const CLIENT_ID = new RegExp(CLIENT_ID_PATTERN)

/** A client id that cannot name a session safely. */
export class InvalidClientIdError extends Error {
  readonly code = 'INVALID_CLIENT_ID'
  constructor() {
    super(`${CLIENT_ID_RULE}.`)
    this.name = 'InvalidClientIdError'
  }
}

export function isValidClientId(clientId: unknown): clientId is string {
  return typeof clientId === 'string' && CLIENT_ID.test(clientId)
}

export function assertClientId(clientId: unknown): asserts clientId is string {
  if (!isValidClientId(clientId)) throw new InvalidClientIdError()
}

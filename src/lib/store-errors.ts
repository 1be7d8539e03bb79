// The one classification of storage failures the rest of the server acts on. A StoreDataError means
// the stored data cannot be used with this configuration (wrong or missing encryption key, a corrupt
// value, a schema that is not migrated): retrying cannot help and nothing stored may be touched. A
// StoreUnavailableError means the storage could not be reached: nothing was changed, retry later. Any
// other error from the store is a bug. Subclasses live next to the code that detects them.
export abstract class StoreDataError extends Error {
  abstract readonly code: string
}

export function isStoreDataError(err: unknown): err is StoreDataError {
  return err instanceof StoreDataError
}

/**
 * The storage an operation needs cannot be reached right now (a database outage): nothing was changed
 * and retrying later can succeed. The API answers it with 503 STORE_UNAVAILABLE.
 */
export class StoreUnavailableError extends Error {
  readonly code: string = 'STORE_UNAVAILABLE'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StoreUnavailableError'
  }
}

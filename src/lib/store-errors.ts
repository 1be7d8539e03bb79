// The one classification of storage failures the rest of the server acts on. A StoreDataError means
// the stored data cannot be used with this configuration (wrong or missing encryption key, a corrupt
// value, a schema that is not migrated): retrying cannot help and nothing stored may be touched. Any
// other error from the store is an outage or a bug. Subclasses live next to the code that detects them.
export abstract class StoreDataError extends Error {
  abstract readonly code: string
}

export function isStoreDataError(err: unknown): err is StoreDataError {
  return err instanceof StoreDataError
}

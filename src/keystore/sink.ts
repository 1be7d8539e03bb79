// Where one open session's writes go. File mode: the file backend. Postgres mode: the database and the
// file mirror, with fallback and catch-up (sync.ts). The handle (handle.ts) only sees this interface.
import type { SessionSnapshot, WriteBatch } from './backend.js'
import type { FileBackend } from './file/index.js'

export interface SinkHealth {
  degraded: boolean
  databaseReachable: boolean | null
  pendingCatchUp: boolean
}

export interface SessionSink {
  /** Durable when it resolves. Throws when it could not be made durable anywhere. */
  persist(batch: WriteBatch): Promise<void>
  /** Delete everything stored for the session. */
  remove(): Promise<boolean>
  health(): SinkHealth
  /** Stops background work (probes); the handle has flushed its writes before calling it. */
  close(): Promise<void>
}

export function createFileSink(file: FileBackend, clientId: string): SessionSink {
  return {
    persist: (batch) => file.apply(clientId, batch),
    remove: () => file.remove(clientId),
    health: () => ({ degraded: false, databaseReachable: null, pendingCatchUp: false }),
    close: () => file.closeSession(clientId),
  }
}

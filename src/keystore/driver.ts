// What differs between the storage modes, behind one interface: how a session is opened (loaded,
// reconciled) and where its writes go, plus listing and deleting stored sessions.
import type { SessionSnapshot } from './backend.js'
import type { FileBackend } from './file/index.js'
import type { LiveSession } from './handle.js'
import { createFileSink, type SessionSink } from './sink.js'
import type { StorageMode, StoredSession } from './types.js'

export interface OpenedSession {
  initial: SessionSnapshot | null
  epoch: number
  makeSink: (live: LiveSession) => SessionSink
}

export interface ModeDriver {
  readonly mode: StorageMode
  open(clientId: string, fencingToken?: number): Promise<OpenedSession>
  /** Reads the stored session (every copy reachable) without writing; throws what open() would for its data. */
  verify(clientId: string): Promise<void>
  /** See SessionStore.preflight. */
  preflight(): Promise<void>
  list(): Promise<StoredSession[]>
  delete(clientId: string): Promise<boolean>
  ping(): Promise<boolean | null>
  close(): Promise<void>
}

export function createFileDriver(file: FileBackend): ModeDriver {
  return {
    mode: 'file',
    async open(clientId) {
      const initial = await file.load(clientId)
      return { initial, epoch: initial?.version.epoch ?? 0, makeSink: () => createFileSink(file, clientId) }
    },
    async verify(clientId) {
      await file.load(clientId)
    },
    preflight: () => file.checkKey(),
    list: () => file.list(),
    delete: (clientId) => file.remove(clientId),
    ping: async () => null,
    close: () => file.close(),
  }
}

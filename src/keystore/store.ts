// The session store: created once per process, it owns the file folder (and, in Postgres mode, the
// database pool) and hands out one AuthStateHandle per open session. Modes are in driver.ts (file)
// and mirror.ts (Postgres + file mirror).
import type { Logger } from 'pino'
import { createCodec } from './codec.js'
import { createFileDriver, type ModeDriver } from './driver.js'
import { SessionAlreadyOpenError } from './errors.js'
import { assertClientId, createFileBackend } from './file/index.js'
import { createSessionHandle, type SessionHandle } from './handle.js'
import { createPostgresDriver } from './mirror.js'
import type { AuthStateHandle, OpenOptions, SessionStore, SessionStoreOptions, StoredSession } from './types.js'

export async function createSessionStore(options: SessionStoreOptions): Promise<SessionStore> {
  const log: Logger | undefined = options.logger
  const codec = createCodec({ encryptionKey: options.encryptionKey })
  const postgresMode = typeof options.databaseUrl === 'string' && options.databaseUrl !== ''
  // As a mirror the file need not fsync each append: the database is durable, and the mirror syncs
  // itself whenever it is the only copy (see mirror.ts).
  const file = createFileBackend({ sessionPath: options.sessionPath, codec, logger: log, durable: !postgresMode || options.acknowledge === 'local' })
  const driver: ModeDriver = postgresMode
    ? await createPostgresDriver({
        databaseUrl: options.databaseUrl as string,
        sql: options.sql,
        codec,
        file,
        logger: log,
        pool: options.database,
        probe: options.database?.probe,
        acknowledge: options.acknowledge,
      })
    : createFileDriver(file)
  const handles = new Map<string, SessionHandle>()
  const opening = new Set<string>()
  let closed: Promise<void> | null = null

  async function open(clientId: string, openOptions: OpenOptions = {}): Promise<AuthStateHandle> {
    assertClientId(clientId)
    if (closed) throw new Error('The session store is closed.')
    if (handles.has(clientId) || opening.has(clientId)) throw new SessionAlreadyOpenError(clientId)
    opening.add(clientId)
    try {
      const opened = await driver.open(clientId, openOptions.fencingToken)
      const handle = createSessionHandle({
        clientId,
        mode: driver.mode,
        initial: opened.initial,
        epoch: opened.epoch,
        encryption: codec.encrypted,
        mirrorPath: file.sessionFiles(clientId).snapshot,
        makeSink: opened.makeSink,
        onWrite: options.onWrite,
        onClosed: () => {
          if (handles.get(clientId) === handle) handles.delete(clientId)
        },
      })
      handles.set(clientId, handle)
      log?.debug({ clientId, mode: driver.mode, found: opened.initial !== null }, 'session opened')
      return handle
    } finally {
      opening.delete(clientId)
    }
  }

  async function close(): Promise<void> {
    await Promise.allSettled([...handles.values()].map((h) => h.close()))
    await driver.close()
  }

  return {
    mode: driver.mode,
    open,
    async list(): Promise<StoredSession[]> {
      return (await driver.list()).sort((a, b) => a.clientId.localeCompare(b.clientId))
    },
    async delete(clientId: string): Promise<boolean> {
      assertClientId(clientId)
      const open = handles.get(clientId)
      if (open) await open.close()
      return driver.delete(clientId)
    },
    async verify(clientId: string): Promise<void> {
      assertClientId(clientId)
      if (handles.has(clientId)) return
      await driver.verify(clientId)
    },
    preflight: () => driver.preflight(),
    ping: () => driver.ping(),
    close() {
      closed ??= close()
      return closed
    },
  }
}

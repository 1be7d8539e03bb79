// The session store: created once per process, it owns the session folder (and, in Postgres mode, the
// database pool unless it borrows one) and hands out one AuthStateHandle per open session. What differs
// between the storage modes is behind the Mode interface (modes/file.ts, modes/mirrored.ts).
import type { Logger } from 'pino'
import { createSql, type Sql } from '../db/connection.js'
import { assertSchemaCurrent, SchemaNotCurrentError } from '../db/schema.js'
import { withTimeout } from '../lib/timeout.js'
import { createCodec, type Codec } from './codec.js'
import { SessionAlreadyOpenError } from './errors.js'
import { assertClientId, createSessionFolder, type SessionFolder } from './file/index.js'
import { createSessionHandle, type SessionHandle } from './handle.js'
import { createFileMode } from './modes/file.js'
import { createMirroredMode } from './modes/mirrored.js'
import { DEFAULT_PROBE, type Mode } from './modes/mode.js'
import { createSessionDatabase } from './postgres/index.js'
import type { AuthStateHandle, OpenOptions, SessionStore, SessionStoreOptions, StoredSession } from './types.js'

async function postgresMode(options: SessionStoreOptions, codec: Codec, folder: SessionFolder, log: Logger | undefined): Promise<Mode> {
  const ownPool = options.sql === undefined
  const sql: Sql = options.sql ?? createSql(options.databaseUrl as string, { logger: log, ...options.database })
  const endPool = async () => {
    if (ownPool) await sql.end({ timeout: 5 })
  }
  try {
    await withTimeout(assertSchemaCurrent(sql), options.database?.probe?.timeoutMs ?? DEFAULT_PROBE.timeoutMs, 'the schema check')
  } catch (err) {
    if (err instanceof SchemaNotCurrentError) {
      await endPool()
      throw err
    }
    log?.warn({ err }, 'database unreachable at start-up: sessions open from the local mirror, degraded')
  }
  const database = createSessionDatabase({ sql, keyCheck: codec.keyCheck, keyIds: codec.keyIds })
  return createMirroredMode({ database, folder, codec, logger: log, probe: options.database?.probe, onClose: endPool })
}

export async function createSessionStore(options: SessionStoreOptions): Promise<SessionStore> {
  const log: Logger | undefined = options.logger
  const codec = createCodec({ encryptionKey: options.encryptionKey })
  const folder = createSessionFolder({ sessionPath: options.sessionPath, codec, logger: log })
  const postgres = typeof options.databaseUrl === 'string' && options.databaseUrl !== ''
  const mode = postgres ? await postgresMode(options, codec, folder, log) : createFileMode({ folder, codec, logger: log })
  const handles = new Map<string, SessionHandle>()
  const opening = new Set<string>()
  let closed: Promise<void> | null = null

  async function open(clientId: string, openOptions: OpenOptions = {}): Promise<AuthStateHandle> {
    assertClientId(clientId)
    if (closed) throw new Error('The session store is closed.')
    if (handles.has(clientId) || opening.has(clientId)) throw new SessionAlreadyOpenError(clientId)
    opening.add(clientId)
    try {
      const opened = await mode.open(clientId, { fencingToken: openOptions.fencingToken })
      const handle = createSessionHandle({
        mode: mode.mode,
        opened,
        codec,
        mirrorPath: folder.paths(clientId).snapshot,
        onWrite: options.onWrite,
        onClosed: () => {
          if (handles.get(clientId) === handle) handles.delete(clientId)
        },
      })
      handles.set(clientId, handle)
      log?.debug({ clientId, mode: mode.mode, found: opened.state.stored }, 'session opened')
      return handle
    } finally {
      opening.delete(clientId)
    }
  }

  return {
    mode: mode.mode,
    open,
    async list(): Promise<StoredSession[]> {
      return (await mode.list()).sort((a, b) => a.clientId.localeCompare(b.clientId))
    },
    async delete(clientId: string): Promise<boolean> {
      assertClientId(clientId)
      return mode.delete(clientId, async () => {
        await handles.get(clientId)?.discard()
      })
    },
    async verify(clientId: string): Promise<void> {
      assertClientId(clientId)
      if (handles.has(clientId)) return
      await mode.verify(clientId)
    },
    preflight: () => mode.preflight(),
    ping: () => mode.ping(),
    close() {
      closed ??= (async () => {
        await Promise.allSettled([...handles.values()].map((h) => h.close()))
        await mode.close()
      })()
      return closed
    },
  }
}

// The keystore's public surface: the session store the server uses, and a one-call library API for
// people who run Baileys in their own process (the package's `whatsapp-backend/keystore` entry point).
import type { Logger } from 'pino'
import { createSessionStore } from './store.js'
import type { AuthStateHandle, SessionStore, StoredSession } from './types.js'

export { createSessionStore } from './store.js'
export type * from './types.js'
export {
  StaleFencingTokenError,
  VersionConflictError,
  SessionUnavailableError,
  SessionDeletedError,
  HandleClosedError,
  SessionAlreadyOpenError,
} from './errors.js'
export { StoreDataError, StoreUnavailableError, isStoreDataError } from '../lib/store-errors.js'
export { SchemaNotCurrentError } from '../db/schema.js'
export {
  WrongEncryptionKeyError,
  EncryptionKeyRequiredError,
  UnencryptedSessionError,
  InvalidEncryptionKeyError,
  CorruptValueError,
} from './crypto.js'
export { InvalidClientIdError } from './file/index.js'

export interface OpenAuthStateOptions {
  clientId: string
  /** Postgres connection string; absent = file mode. */
  databaseUrl?: string
  /** Folder of the session files (the store in file mode, the mirror in Postgres mode). */
  sessionPath: string
  /** 32 bytes as base64 or hex. */
  encryptionKey?: string
  logger?: Logger
  /** The lease's fencing token, when the caller holds one (Postgres mode). */
  fencingToken?: number
}

/** An AuthStateHandle that also owns its store: close() closes both. */
export interface OwnedAuthState extends AuthStateHandle {
  /** Stored sessions next to this one (never key material). */
  listSessions(): Promise<StoredSession[]>
  /** Delete another stored session (database rows and file). */
  deleteSession(clientId: string): Promise<boolean>
  store: SessionStore
}

/**
 * Baileys auth state in one call:
 *   const auth = await openAuthState({ clientId: 'main', sessionPath: './sessions', databaseUrl })
 *   const sock = makeWASocket({ auth: auth.state }); sock.ev.on('creds.update', auth.saveCreds)
 */
export async function openAuthState(options: OpenAuthStateOptions): Promise<OwnedAuthState> {
  const store = await createSessionStore({
    sessionPath: options.sessionPath,
    databaseUrl: options.databaseUrl,
    encryptionKey: options.encryptionKey,
    logger: options.logger,
  })
  let handle: AuthStateHandle
  try {
    handle = await store.open(options.clientId, { fencingToken: options.fencingToken })
  } catch (err) {
    await store.close()
    throw err
  }
  return {
    state: handle.state,
    saveCreds: () => handle.saveCreds(),
    setStatus: (status, jid) => handle.setStatus(status, jid),
    health: () => handle.health(),
    keyCounts: () => handle.keyCounts(),
    wipe: () => handle.wipe(),
    async close() {
      await handle.close()
      await store.close()
    },
    listSessions: () => store.list(),
    deleteSession: (clientId: string) => store.delete(clientId),
    store,
  }
}

/** Lists stored sessions without opening any (never key material). */
export async function listSessions(options: Omit<OpenAuthStateOptions, 'clientId' | 'fencingToken'>): Promise<StoredSession[]> {
  const store = await createSessionStore(options)
  try {
    return await store.list()
  } finally {
    await store.close()
  }
}

/** Deletes a stored session (database rows and file). Returns whether anything existed. */
export async function deleteSession(options: Omit<OpenAuthStateOptions, 'fencingToken'>): Promise<boolean> {
  const store = await createSessionStore(options)
  try {
    return await store.delete(options.clientId)
  } finally {
    await store.close()
  }
}

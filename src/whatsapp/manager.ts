// Owns every Session of this server (one per WhatsApp account). Created per app instance and hung on
// Fastify as a decorator, never a module-level Map, so tests can build many isolated apps and
// shutdown can reach every socket.
import type { Logger } from 'pino'
import type { AppConfig } from '../config.js'
import type { AuthStateHandle, OpenOptions, SessionStore } from '../keystore/types.js'
import type { LeaseManager } from '../lease/index.js'
import { SessionError } from './errors.js'
import { assertClientId } from '../lib/client-id.js'
import { SESSION_STATES, type SessionState } from '../lib/session-states.js'
import { isStoreDataError, type StoreDataError } from '../lib/store-errors.js'
import { Session, type SessionLeaseHandlers } from './session.js'

/** Counters the manager reports to (the metrics plugin implements it; all optional). */
export interface SessionMetrics {
  login?(result: 'success' | 'restored' | 'logged_out' | 'replaced'): void
  pairingCode?(result: 'ok' | 'error'): void
  messageSent?(result: 'ok' | 'error'): void
}

export interface SessionManagerOptions {
  store: SessionStore
  config: Pick<AppConfig, 'clientId' | 'reconnect' | 'qrTimeoutMs' | 'waWsUrl'>
  logger: Logger
  metrics?: SessionMetrics
  /**
   * Opens a session's stored state. Default: store.open(clientId). The seam for the session lease:
   * acquire the lease first and pass its fencing token (store.open(clientId, { fencingToken })).
   */
  openHandle?: (clientId: string, options: OpenOptions) => Promise<AuthStateHandle>
  /**
   * The session lease (Postgres mode, SESSION_LEASE=on): each session holds its client id's lease
   * before connecting and opens the store under its fencing token. Absent: sessions connect at once.
   */
  lease?: Pick<LeaseManager, 'hold' | 'read' | 'owner'>
}

export function createSessionManager({ store, config, logger, metrics = {}, openHandle, lease }: SessionManagerOptions) {
  const open = openHandle ?? ((clientId: string, options: OpenOptions) => store.open(clientId, options))
  const sessions = new Map<string, Session>()
  let closed = false
  const log = logger.child({ component: 'sessions' })

  function find(clientId: string): Session | undefined {
    return sessions.get(clientId)
  }

  function get(clientId: string): Session {
    const session = sessions.get(clientId)
    if (!session) throw new SessionError('SESSION_NOT_FOUND', `No session "${clientId}" runs here.`)
    return session
  }

  /**
   * The stored state is read first, so a wrong encryption key (or an unmigrated schema) is refused
   * with that sentence at once, even when the session would first wait for a lease.
   */
  async function verifyStored(clientId: string): Promise<void> {
    try {
      await store.verify(clientId)
    } catch (err) {
      if (isStoreDataError(err)) throw unreadable(err)
      log.warn({ err, clientId }, 'could not check the stored session before starting it')
    }
  }

  const unreadable = (err: StoreDataError) =>
    new SessionError('SESSION_UNREADABLE', err.message, { cause: err.code }, { cause: err })

  /** Creates and starts a session; resolves once its socket is created (not necessarily open). */
  async function create(clientId: string): Promise<Session> {
    assertClientId(clientId)
    if (closed) throw new SessionError('SESSION_STOPPED', 'The server is shutting down.')
    if (sessions.has(clientId)) throw new SessionError('SESSION_EXISTS', `Session "${clientId}" already runs.`)
    await verifyStored(clientId)
    if (sessions.has(clientId)) throw new SessionError('SESSION_EXISTS', `Session "${clientId}" already runs.`)
    const session = new Session({
      clientId,
      openHandle: (options) => open(clientId, options),
      ...(lease ? { lease: (handlers: SessionLeaseHandlers) => lease.hold(clientId, handlers) } : {}),
      logger,
      reconnect: config.reconnect,
      qrTimeoutMs: config.qrTimeoutMs,
      waWsUrl: config.waWsUrl,
    })
    session.on('open', ({ newLogin }) => metrics.login?.(newLogin ? 'success' : 'restored'))
    session.on('loggedOut', () => metrics.login?.('logged_out'))
    session.on('replaced', () => metrics.login?.('replaced'))
    // Registered before start() so a concurrent create() for the same id sees it at once.
    sessions.set(clientId, session)
    try {
      await session.start()
    } catch (err) {
      sessions.delete(clientId)
      await session.stop()
      if (isStoreDataError(err)) throw unreadable(err)
      throw err
    }
    return session
  }

  /** Logs the session out (when connected), stops it and deletes everything stored for it. */
  async function remove(clientId: string): Promise<{ wasRunning: boolean; hadStoredData: boolean }> {
    assertClientId(clientId)
    const session = sessions.get(clientId)
    // In standby another instance runs this account: deleting its stored keys would break it.
    session?.assertLeaseHolder()
    if (!session && lease) await assertNotHeldElsewhere(clientId)
    if (session) {
      await session.logout()
      sessions.delete(clientId)
    }
    const hadStoredData = await store.delete(clientId)
    if (!session && !hadStoredData) {
      throw new SessionError('STORED_SESSION_NOT_FOUND', `No session "${clientId}" is running or stored.`)
    }
    log.info({ clientId, wasRunning: Boolean(session), hadStoredData }, 'session deleted')
    return { wasRunning: Boolean(session), hadStoredData }
  }

  /** The session's live lease when another instance holds it (it runs the session there), else null. */
  async function foreignLease(clientId: string) {
    const row = await lease?.read(clientId)
    return row?.live && row.owner !== lease?.owner ? row : null
  }

  async function heldElsewhere(clientId: string): Promise<boolean> {
    return (await foreignLease(clientId)) !== null
  }

  /** A session no instance runs here may still run on another one: its live lease says so. */
  async function assertNotHeldElsewhere(clientId: string): Promise<void> {
    const row = await foreignLease(clientId)
    if (row) {
      throw new SessionError(
        'LEASE_HELD_ELSEWHERE',
        `Instance ${row.owner} runs session "${clientId}" (lease until ${row.expiresAt.toISOString()}); delete it there.`,
        { lease: { holder: row.owner, fencingToken: row.fencingToken, expiresAt: row.expiresAt.toISOString() } },
      )
    }
  }

  async function sendText(clientId: string, to: string, text: string) {
    try {
      const result = await get(clientId).sendText(to, text)
      metrics.messageSent?.('ok')
      return result
    } catch (err) {
      // Only attempts that reached WhatsApp count as failures; a closed session is the caller's 409.
      if (err instanceof SessionError && err.code === 'SEND_FAILED') metrics.messageSent?.('error')
      throw err
    }
  }

  async function requestPairingCode(clientId: string, phone: string): Promise<string> {
    try {
      const code = await get(clientId).requestPairingCode(phone)
      metrics.pairingCode?.('ok')
      return code
    } catch (err) {
      if (err instanceof SessionError && err.code === 'SEND_FAILED') metrics.pairingCode?.('error')
      throw err
    }
  }

  function countByState(): Record<SessionState, number> {
    const counts = Object.fromEntries(SESSION_STATES.map((s) => [s, 0])) as Record<SessionState, number>
    for (const session of sessions.values()) counts[session.state]++
    return counts
  }

  /**
   * Starts every stored session that was linked and not logged out ('active'), besides the default one,
   * so a restart or redeploy brings all accounts back. Failures are logged per session, never thrown:
   * one unreadable session must not keep the others (or the server) down.
   */
  async function resumeStored(): Promise<string[]> {
    let stored
    try {
      stored = await store.list()
    } catch (err) {
      log.warn({ err }, 'could not list stored sessions to resume; only the default session runs')
      return []
    }
    const resumed: string[] = []
    for (const s of stored) {
      if (s.status !== 'active' || sessions.has(s.clientId) || closed) continue
      try {
        await create(s.clientId)
        resumed.push(s.clientId)
      } catch (err) {
        log.error({ err, clientId: s.clientId }, 'could not resume a stored session')
      }
    }
    if (resumed.length > 0) log.info({ resumed }, 'stored sessions resumed')
    return resumed
  }

  /** Stops every session (sockets closed, timers cancelled, stores flushed). The manager accepts no new ones. */
  async function stopAll(): Promise<void> {
    closed = true
    const all = [...sessions.values()]
    sessions.clear()
    await Promise.allSettled(all.map((s) => s.stop()))
  }

  return {
    defaultClientId: config.clientId,
    store,
    find,
    get,
    list: () => [...sessions.values()],
    isRunning: (clientId: string) => sessions.has(clientId),
    /** Whether another instance runs the session (its lease is live and not ours). */
    heldElsewhere,
    create,
    startDefault: () => create(config.clientId),
    resumeStored,
    delete: remove,
    sendText,
    requestPairingCode,
    countByState,
    stopAll,
  }
}

export type SessionManager = ReturnType<typeof createSessionManager>

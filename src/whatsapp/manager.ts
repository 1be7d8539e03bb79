// Owns every Session of this server (one per WhatsApp account). Created per app instance and hung on
// Fastify as a decorator, never a module-level Map, so tests can build many isolated apps and
// shutdown can reach every socket. At boot, stored sessions resume in the background (resume.ts): the
// server listens first and reports the progress.
import type { Logger } from 'pino'
import type { AppConfig } from '../config.js'
import type { AuthStateHandle, OpenOptions, SessionStore } from '../keystore/types.js'
import type { Placement } from '../cluster/placement.js'
import type { LeaseManager } from '../lease/index.js'
import { assertClientId } from '../lib/client-id.js'
import { SESSION_STATES, type SessionState } from '../lib/session-states.js'
import type { StoreDataError } from '../lib/store-errors.js'
import { SessionError } from './errors.js'
import { createObserverSet, type SessionObserver } from './observers.js'
import { createGate } from './gate.js'
import { createClusterSessions } from './cluster-sessions.js'
import { createResumeQueue } from './resume.js'
import { Session, type SessionLeaseHandlers } from './session.js'
import type { WASocket } from './socket.js'

/** Counters the manager reports to (the metrics plugin implements it; all optional). */
export interface SessionMetrics {
  login?(result: 'success' | 'restored' | 'logged_out' | 'replaced'): void
  pairingCode?(result: 'ok' | 'error'): void
  messageSent?(result: 'ok' | 'error'): void
}

export interface SessionManagerOptions {
  store: Pick<SessionStore, 'open' | 'list' | 'delete' | 'ping' | 'mode'>
  config: Pick<AppConfig, 'clientId' | 'reconnect' | 'qrTimeoutMs' | 'waWsUrl' | 'maxSessions' | 'resumeConcurrency'>
  logger: Logger
  metrics?: SessionMetrics
  /** Opens a session's stored state. Default: store.open(clientId, options). */
  openHandle?: (clientId: string, options: OpenOptions) => Promise<AuthStateHandle>
  /**
   * The session lease (Postgres mode, SESSION_LEASE=on): each session holds its client id's lease
   * before connecting and opens the store under its fencing token. Absent: sessions connect at once.
   */
  lease?: Pick<LeaseManager, 'hold' | 'read' | 'owner' | 'releaseAll' | 'forget'>
  /**
   * Placement (a cluster): a session created through this instance is pinned here until it is linked,
   * so pairing never moves; placement applies to it afterwards.
   */
  placement?: Pick<Placement, 'pin' | 'unpin' | 'drop'>
}

/** How long POST /sessions waits for the new session's first outcome before answering. */
const CREATE_SETTLE_MS = 10_000

const unreadable = (err: StoreDataError) => new SessionError('SESSION_UNREADABLE', err.message, { cause: err.code }, { cause: err })

export function createSessionManager({ store, config, logger, metrics = {}, openHandle, lease, placement }: SessionManagerOptions) {
  const open = openHandle ?? ((clientId: string, options: OpenOptions) => store.open(clientId, options))
  const sessions = new Map<string, Session>()
  /** Sessions registered because they are stored (boot resume, discovery), not created here. */
  const adopted = new Set<string>()
  let closed = false
  const log = logger.child({ component: 'sessions' })
  const observers = createObserverSet(log)
  const resume = createResumeQueue({ logger: log, onFailed: (session) => forget(session) })
  // Sessions opening their store and connecting at once: a restart, or a takeover of many leases.
  const admission = createGate(config.resumeConcurrency)

  function find(clientId: string): Session | undefined {
    return sessions.get(clientId)
  }

  function get(clientId: string): Session {
    const session = sessions.get(clientId)
    if (!session) throw new SessionError('SESSION_NOT_FOUND', `No session "${clientId}" runs here.`)
    return session
  }

  function forget(session: Session): void {
    if (sessions.get(session.clientId) !== session) return
    sessions.delete(session.clientId)
    adopted.delete(session.clientId)
  }

  function assertRoom(clientId: string): void {
    assertClientId(clientId)
    if (closed) throw new SessionError('SESSION_STOPPED', 'The server is shutting down.')
    if (sessions.has(clientId)) throw new SessionError('SESSION_EXISTS', `Session "${clientId}" already runs.`)
    if (sessions.size >= config.maxSessions) {
      throw new SessionError(
        'SESSION_LIMIT_REACHED',
        `This server runs ${sessions.size} sessions, its MAX_SESSIONS limit: delete a session, raise MAX_SESSIONS (an idle session needs about 1.2 MB), or run another instance.`,
        { maxSessions: config.maxSessions },
      )
    }
  }

  /** A Session for the client id, registered but not started (resume starts it from its queue). */
  function register(clientId: string): Session {
    assertRoom(clientId)
    const session = new Session({
      clientId,
      openHandle: (options) => open(clientId, options),
      ...(lease ? { lease: (handlers: SessionLeaseHandlers) => lease.hold(clientId, handlers) } : {}),
      logger,
      reconnect: config.reconnect,
      qrTimeoutMs: config.qrTimeoutMs,
      waWsUrl: config.waWsUrl,
      reporter: observers.forSession(clientId),
      admission: (signal) => admission.enter(signal),
    })
    session.on('open', ({ newLogin }) => metrics.login?.(newLogin ? 'success' : 'restored'))
    session.on('loggedOut', () => metrics.login?.('logged_out'))
    session.on('replaced', () => metrics.login?.('replaced'))
    // A session whose stored state cannot be used stopped itself: it no longer runs here.
    session.on('fatal', () => forget(session))
    sessions.set(clientId, session)
    return session
  }

  /**
   * Creates and starts a session; resolves once its first connection attempt has an outcome (QR shown,
   * open, backing off, or waiting behind another instance's lease), or after CREATE_SETTLE_MS (it may
   * wait for a place in the admission gate during a big resume). A stored session that cannot be read
   * is refused here (SESSION_UNREADABLE) rather than failing later in standby.
   */
  async function create(clientId: string): Promise<Session> {
    const session = register(clientId)
    if (placement) {
      placement.pin(clientId)
      // Linked (or gone): placement applies again, after a grace period for the others to discover it.
      const unpin = (next: string) => { if (next === 'open' || next === 'stopped') placement.unpin(clientId) }
      session.on('state', unpin)
    }
    // A fatal store error also reaches settled(); start() rejecting with it needs no other handling.
    session.start().catch(() => undefined)
    let timer: NodeJS.Timeout | undefined
    const outcome = await Promise.race([
      session.settled(),
      new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), CREATE_SETTLE_MS) }),
    ])
    clearTimeout(timer)
    if (outcome?.error) {
      forget(session)
      await session.stop()
      throw unreadable(outcome.error)
    }
    return session
  }

  /**
   * Queues the default session and then every stored session that was linked and not logged out
   * ('active') for a background start; returns at once. Failures are reported per session in
   * resumeProgress(), never thrown: one unreadable session must not keep the others (or the server) down.
   */
  function resumeAll(): Promise<void> {
    resume.listing()
    if (!sessions.has(config.clientId)) resume.add(register(config.clientId))
    return (async () => {
      let stored
      try {
        stored = await store.list()
      } catch (err) {
        log.warn({ err }, 'could not list stored sessions to resume; only the default session runs')
        return
      }
      for (const s of stored) {
        if (s.status !== 'active' || sessions.has(s.clientId) || closed) continue
        try {
          resume.add(register(s.clientId))
          adopted.add(s.clientId)
        } catch (err) {
          if (err instanceof SessionError && err.code === 'SESSION_LIMIT_REACHED') resume.refuse(s.clientId, err.code, err.message)
          else throw err
        }
      }
    })().finally(() => resume.listed())
  }

  /** Logs the session out (when connected), stops it and deletes everything stored for it. */
  async function remove(clientId: string): Promise<{ wasRunning: boolean; hadStoredData: boolean }> {
    assertClientId(clientId)
    // Nothing is stopped or removed unless the database can take the delete (files alone would leave
    // the row, and the session would come back at the next start).
    if (store.mode === 'postgres' && (await store.ping()) === false) {
      throw new SessionError('STORE_UNAVAILABLE', 'The database is unreachable: nothing was deleted; retry once it is back.')
    }
    const session = sessions.get(clientId)
    // In standby another instance runs this account: deleting its stored keys would break it.
    session?.assertLeaseHolder()
    if (lease && !session?.started) await assertNotHeldElsewhere(clientId)
    if (session) {
      await session.logout()
      forget(session)
    }
    placement?.drop(clientId)
    let hadStoredData: boolean
    try {
      hadStoredData = await store.delete(clientId)
    } catch (err) {
      throw new SessionError('STORE_UNAVAILABLE', 'The session storage did not take the delete; retry once it is back.', undefined, { cause: err })
    }
    if (lease) await lease.forget(clientId).catch((err: unknown) => log.warn({ err, clientId }, 'could not remove the lease row of a deleted session'))
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

  async function counted<T>(work: () => Promise<T>, count?: (result: 'ok' | 'error') => void): Promise<T> {
    try {
      const result = await work()
      count?.('ok')
      return result
    } catch (err) {
      // Only attempts that reached WhatsApp count as failures; a closed session is the caller's 409.
      if (err instanceof SessionError && err.code === 'SEND_FAILED') count?.('error')
      throw err
    }
  }

  const cluster = createClusterSessions({
    sessions, adopted, register, forget, store, defaultClientId: config.clientId, log, isClosed: () => closed,
  })

  function countByState(): Record<SessionState, number> {
    const counts = Object.fromEntries(SESSION_STATES.map((s) => [s, 0])) as Record<SessionState, number>
    for (const session of sessions.values()) counts[session.state]++
    return counts
  }

  /**
   * Stops every session (sockets closed, timers cancelled, stores flushed) and accepts no new ones.
   * With a lease, every lease is released in one statement once all sessions have stopped.
   */
  async function stopAll(): Promise<void> {
    closed = true
    resume.close()
    const all = [...sessions.values()]
    sessions.clear()
    await Promise.allSettled(all.map((s) => s.stop({ releaseLease: !lease })))
    if (lease) await lease.releaseAll().catch((err: unknown) => log.warn({ err }, 'releasing the session leases failed; they expire by themselves'))
  }

  return {
    defaultClientId: config.clientId,
    maxSessions: config.maxSessions,
    find,
    get,
    list: () => [...sessions.values()],
    isRunning: (clientId: string) => sessions.has(clientId),
    /**
     * Whether this instance produces and delivers the session's events now: it runs here and, with the
     * lease, holds it (a standby does not). A hand-over moves this to the new holder.
     */
    isLocal: (clientId: string) => {
      const session = sessions.get(clientId)
      return session !== undefined && (!lease || session.leaseState()?.role === 'holder')
    },
    /** Whether another instance runs the session (its lease is live and not ours). */
    heldElsewhere,
    create,
    resumeAll,
    resumeProgress: resume.progress,
    delete: remove,
    /**
     * Registers an observer of every session (state, QR, incoming messages before their receipt,
     * message updates, retry lookups); returns a function that removes it. Register before resume.
     */
    observe: (observer: SessionObserver) => observers.add(observer),
    /** Runs fn on the open socket of a session (SESSION_NOT_FOUND, SESSION_NOT_OPEN). */
    withSocket: <T>(clientId: string, fn: (sock: WASocket) => Promise<T>) => get(clientId).withSocket(fn),
    sendText: (clientId: string, to: string, text: string) => counted(() => get(clientId).sendText(to, text), metrics.messageSent),
    requestPairingCode: (clientId: string, phone: string) => counted(() => get(clientId).requestPairingCode(phone), metrics.pairingCode),
    countByState,
    /** Cluster: registers every linked stored session in standby; stops adopted ones no longer stored. */
    discover: cluster.discover,
    /** Cluster: clean hand-over (stop, flush, release), then standby here again. */
    handOver: cluster.handOver,
    /** Client ids of the linked sessions registered here (placement balances them). */
    known: cluster.known,
    /** Client ids of the sessions whose lease this instance holds. */
    held: cluster.held,
    /** Lease states of the running sessions that have one (metrics). */
    *leaseStates() {
      for (const s of sessions.values()) {
        const state = s.leaseState()
        if (state) yield { clientId: s.clientId, state }
      }
    },
    stopAll,
  }
}

export type SessionManager = ReturnType<typeof createSessionManager>

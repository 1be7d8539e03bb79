// One WhatsApp account: one Baileys socket at a time on the keystore's AuthStateHandle, with an explicit
// state and every piece of long-lived work (reconnect timer, in-flight writes, sends) owned here so that
// stop() can cancel and await all of it. Baileys does not reconnect by itself: the close codes below
// decide what happens next (restart at once, back off, wipe and offer a new QR, or stop for good).
import { EventEmitter } from 'node:events'
import makeWASocket, { Browsers, DisconnectReason, type WASocket } from '@whiskeysockets/baileys'
import type { Logger } from 'pino'
import type { SessionState } from '../lib/session-states.js'
import type { AuthStateHandle, OpenOptions, StoreHealth } from '../keystore/types.js'
import type { LeaseState, LostReason } from '../lease/types.js'
import { backoffDelay, type BackoffOptions } from '../lib/backoff.js'
import { isStoreDataError } from '../lib/store-errors.js'
import { SessionError } from './errors.js'
import { normalisePhone, toJid } from './jid.js'

export { SESSION_STATES, type SessionState } from '../lib/session-states.js'

export interface LastDisconnect {
  code: number | null
  reason: string
  at: string
}

export interface SessionStatusSnapshot {
  clientId: string
  state: SessionState
  account: { jid: string; name: string | null } | null
  connectedSince: string | null
  lastDisconnect: LastDisconnect | null
  reconnect: { attempt: number; nextRetryAt: string | null }
  qrAvailable: boolean
  startedAt: string
  /** The session lease (Postgres mode), null without one. In standby: who holds it and until when. */
  lease: SessionLeaseStatus | null
}

export interface SessionLeaseStatus {
  role: LeaseState['role']
  /** This instance's owner id. */
  owner: string
  holder: string | null
  fencingToken: number | null
  expiresAt: string | null
  takeovers: number
}

/** The part of a LeaseHolder (src/lease) a session drives: start, stop (releasing), read its state. */
export interface SessionLease {
  start(): void
  stop(options?: { release?: boolean }): Promise<boolean>
  readonly state: LeaseState
}

export interface SessionLeaseHandlers {
  onAcquired(info: { fencingToken: number }): Promise<void>
  onLost(info: { fencingToken: number; reason: LostReason }): Promise<void>
}

export interface SessionOptions {
  clientId: string
  /** Opens (or re-opens after a logout wipe) the stored auth state: SessionStore.open(clientId, options). */
  openHandle: (options: OpenOptions) => Promise<AuthStateHandle>
  /**
   * The session lease (Postgres mode): the session stays in standby until onAcquired, opens the store
   * under the fencing token, and closes its socket on onLost. Without it the session connects at once.
   */
  lease?: (handlers: SessionLeaseHandlers) => SessionLease
  logger: Logger
  reconnect: BackoffOptions
  qrTimeoutMs: number
  /** Test/dev override of the WhatsApp websocket URL. */
  waWsUrl?: string
  /** Source of jitter, injectable so tests can pin delays. */
  random?: () => number
}

export interface SessionEvents {
  state: [next: SessionState, prev: SessionState]
  qr: [expiresAt: Date]
  /** newLogin: the account was linked (QR or pairing code) by this connection rather than restored. */
  open: [info: { jid: string; newLogin: boolean }]
  disconnect: [info: LastDisconnect]
  loggedOut: []
  replaced: []
}

/** 515 normally comes once, right after a pairing; more in a row means something else is wrong. */
const MAX_IMMEDIATE_RESTARTS = 3
const LOGOUT_TIMEOUT_MS = 5_000

function closeCode(error: unknown): number | null {
  if (typeof error !== 'object' || error === null || !('output' in error)) return null
  const output = (error as { output?: { statusCode?: unknown } }).output
  return typeof output?.statusCode === 'number' ? output.statusCode : null
}

export class Session extends EventEmitter<SessionEvents> {
  readonly clientId: string
  readonly #opts: SessionOptions
  readonly #log: Logger
  readonly #baileysLog: Logger
  /** Aborted by stop(): in-flight async steps check it after every await. */
  readonly #lifetime = new AbortController()
  readonly #pending = new Set<Promise<unknown>>()
  readonly #startedAt = new Date()
  #state: SessionState = 'starting'
  #handle: AuthStateHandle | null = null
  #sock: WASocket | null = null
  /** Incremented whenever a socket is dropped: events from older sockets are ignored. */
  #gen = 0
  #retryTimer: NodeJS.Timeout | null = null
  #nextRetryAt: Date | null = null
  #attempt = 0
  #restarts = 0
  #linking = false
  #qr: { value: string; expiresAt: Date } | null = null
  #account: { jid: string; name: string | null } | null = null
  #connectedSince: Date | null = null
  #lastDisconnect: LastDisconnect | null = null
  #reconnecting: Promise<void> | null = null
  /** The logged-out wipe in progress: a forced reconnect waits for it instead of racing it for the store. */
  #wiping: Promise<void> | null = null
  #stopping: Promise<void> | null = null
  #lease: SessionLease | null = null
  /** The fencing token the store is opened under while we hold the lease; null in standby. */
  #fencingToken: number | null = null
  /** Lease callbacks run one after the other (the holder does not await onAcquired). */
  #leaseQueue: Promise<void> = Promise.resolve()

  constructor(options: SessionOptions) {
    super()
    this.clientId = options.clientId
    this.#opts = options
    this.#log = options.logger.child({ clientId: options.clientId })
    // Baileys logs every frame at debug/trace; warn is what an operator can act on. Never louder than
    // the app's own level (tests run silent).
    const quiet = this.#log.levelVal > this.#log.levels.values.warn ? this.#log.level : 'warn'
    this.#baileysLog = this.#log.child({ component: 'baileys' }, { level: quiet })
  }

  get state(): SessionState {
    return this.#state
  }

  /**
   * Opens the stored auth state and the first socket; resolves once the socket is created, not open.
   * With a lease: starts in standby and connects once the lease is held (resolves at once).
   */
  async start(): Promise<void> {
    if (this.#lifetime.signal.aborted) throw new SessionError('SESSION_STOPPED', 'The session was stopped.')
    if (this.#sock || this.#handle || this.#lease) return
    if (this.#opts.lease) {
      this.#setState('standby')
      this.#lease = this.#opts.lease({
        onAcquired: ({ fencingToken }) => this.#leaseStep(() => this.#onLeaseAcquired(fencingToken)),
        onLost: ({ fencingToken, reason }) => this.#leaseStep(() => this.#onLeaseLost(fencingToken, reason)),
      })
      this.#lease.start()
      return
    }
    await this.#track(this.#connectSafely({ rethrowFatal: true }))
  }

  /** Whether this instance may connect: always without a lease, else only while holding it. */
  get #mayConnect(): boolean {
    return !this.#opts.lease || this.#fencingToken !== null
  }

  #leaseStep(step: () => Promise<void>): Promise<void> {
    const run = this.#leaseQueue.then(step).catch((err: unknown) => this.#log.error({ err }, 'session lease step failed'))
    this.#leaseQueue = run
    return this.#track(run)
  }

  async #onLeaseAcquired(fencingToken: number): Promise<void> {
    if (this.#lifetime.signal.aborted) return
    this.#fencingToken = fencingToken
    this.#attempt = 0
    this.#restarts = 0
    this.#log.info({ fencingToken }, 'session lease held: connecting')
    this.#setState('connecting')
    await this.#connectSafely()
  }

  /** The lease can no longer be renewed (or another instance took it): close the socket before it expires. */
  async #onLeaseLost(fencingToken: number, reason: LostReason): Promise<void> {
    this.#fencingToken = null
    this.#log.warn({ fencingToken, reason }, 'session lease lost: closing the WhatsApp connection')
    this.#clearRetry()
    await this.#dropSocket()
    if (this.#wiping) await this.#wiping.catch(() => undefined)
    this.#account = null
    this.#connectedSince = null
    const handle = this.#handle
    this.#handle = null
    // Flushes under the old token (still valid: onLost runs before the lease can expire).
    if (handle) await handle.close().catch((err: unknown) => this.#log.warn({ err }, 'flushing the session store failed'))
    if (!this.#lifetime.signal.aborted) this.#setState('standby')
  }

  /** Stops for good: cancels the reconnect timer, closes the socket, awaits in-flight work, flushes the store. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop()
    return this.#stopping
  }

  /** Forces a fresh socket now (cancelling any backoff wait). Concurrent calls share one attempt. */
  reconnect(): Promise<void> {
    if (this.#lifetime.signal.aborted) return Promise.reject(new SessionError('SESSION_STOPPED', 'The session was stopped.'))
    if (!this.#mayConnect) return Promise.reject(this.#standbyError())
    this.#reconnecting ??= this.#track(
      (async () => {
        if (this.#wiping) await this.#wiping
        this.#clearRetry()
        this.#attempt = 0
        this.#restarts = 0
        await this.#dropSocket()
        this.#setState('connecting')
        await this.#connectSafely()
      })(),
    ).finally(() => {
      this.#reconnecting = null
    })
    return this.#reconnecting
  }

  status(): SessionStatusSnapshot {
    return {
      clientId: this.clientId,
      state: this.#state,
      account: this.#account && this.#state === 'open' ? { ...this.#account } : null,
      connectedSince: this.#connectedSince?.toISOString() ?? null,
      lastDisconnect: this.#lastDisconnect,
      reconnect: { attempt: this.#attempt, nextRetryAt: this.#nextRetryAt?.toISOString() ?? null },
      qrAvailable: this.qr() !== null,
      startedAt: this.#startedAt.toISOString(),
      lease: this.leaseStatus(),
    }
  }

  leaseStatus(): SessionLeaseStatus | null {
    if (!this.#lease) return null
    const s = this.#lease.state
    return {
      role: s.role,
      owner: s.owner,
      holder: s.holder,
      fencingToken: s.fencingToken,
      expiresAt: s.expiresAt?.toISOString() ?? null,
      takeovers: s.takeovers,
    }
  }

  /** The raw lease state (metrics, session-info), null without a lease. */
  leaseState(): LeaseState | null {
    return this.#lease?.state ?? null
  }

  #standbyError(): SessionError {
    const lease = this.leaseStatus()
    return new SessionError(
      'LEASE_HELD_ELSEWHERE',
      lease?.holder
        ? `Instance ${lease.holder} holds this session until ${lease.expiresAt ?? 'its lease expires'}; use that instance, or stop it and this one takes over.`
        : 'This instance is waiting for the session lease (another instance holds it or the database is unreachable).',
      { lease },
    )
  }

  /** Refuses operations that would touch WhatsApp or the stored session while another instance holds it. */
  assertLeaseHolder(): void {
    if (!this.#mayConnect) throw this.#standbyError()
  }

  /** The current QR while it is valid, else null. */
  qr(): { value: string; expiresAt: Date } | null {
    if (this.#state !== 'qr' || !this.#qr || this.#qr.expiresAt.getTime() <= Date.now()) return null
    return this.#qr
  }

  storeHealth(): StoreHealth | null {
    return this.#handle?.health() ?? null
  }

  async keyCounts(): Promise<Record<string, number>> {
    return (await this.#handle?.keyCounts()) ?? {}
  }

  get uptimeSeconds(): number {
    return Math.round((Date.now() - this.#startedAt.getTime()) / 1000)
  }

  /** Sends a text; resolves with WhatsApp's message id. */
  async sendText(to: string, text: string): Promise<{ messageId: string; jid: string }> {
    const jid = toJid(to)
    const sock = this.#sock
    if (this.#state !== 'open' || !sock) {
      throw new SessionError('SESSION_NOT_OPEN', `The session is ${this.#state}, not open.`, { state: this.#state })
    }
    const sent = await this.#track(sock.sendMessage(jid, { text })).catch((err: unknown) => {
      throw new SessionError('SEND_FAILED', 'WhatsApp did not accept the message.', undefined, { cause: err })
    })
    const messageId = sent?.key?.id
    if (!messageId) throw new SessionError('SEND_FAILED', 'WhatsApp returned no message id.')
    return { messageId, jid }
  }

  /** Links by phone number instead of QR: only while the socket waits for a link (state qr). */
  async requestPairingCode(phone: string): Promise<string> {
    const digits = normalisePhone(phone)
    if (this.#state === 'open') throw new SessionError('ALREADY_CONNECTED', 'The session is already linked and open.')
    const sock = this.#sock
    if (this.#state !== 'qr' || !sock) {
      throw new SessionError('PAIRING_NOT_AVAILABLE', `The session is ${this.#state}; wait for state qr.`, { state: this.#state })
    }
    return this.#track(sock.requestPairingCode(digits)).catch((err: unknown) => {
      throw new SessionError('SEND_FAILED', 'WhatsApp did not issue a pairing code.', undefined, { cause: err })
    })
  }

  /** Unlinks the device on WhatsApp's side when connected (best effort, bounded), then stops. */
  async logout(): Promise<void> {
    const sock = this.#sock
    if (sock && this.#state === 'open') {
      // Our own logout must not run the "logged out remotely" path (wipe + fresh QR): drop the socket first.
      this.#gen++
      this.#sock = null
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, LOGOUT_TIMEOUT_MS)
      })
      await Promise.race([sock.logout().catch((err: unknown) => this.#log.warn({ err }, 'logout request failed')), timeout])
      clearTimeout(timer)
      await sock.end(undefined).catch(() => undefined)
    }
    await this.stop()
  }

  async #stop(): Promise<void> {
    this.#lifetime.abort()
    this.#clearRetry()
    await this.#dropSocket()
    // New work can be queued while we wait (a creds write from the closing socket): drain until empty.
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending])
    this.#qr = null
    this.#connectedSince = null
    const handle = this.#handle
    this.#handle = null
    if (handle) await handle.close().catch((err: unknown) => this.#log.error({ err }, 'flushing the session store failed'))
    // Hand-over: socket closed and keys flushed, so the next instance may connect at once.
    if (this.#lease) await this.#lease.stop({ release: true }).catch((err: unknown) => this.#log.warn({ err }, 'releasing the session lease failed'))
    this.#fencingToken = null
    this.#setState('stopped')
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#pending.add(promise)
    const remove = () => this.#pending.delete(promise)
    promise.then(remove, remove)
    return promise
  }

  #setState(next: SessionState): void {
    const prev = this.#state
    if (prev === next || prev === 'stopped') return
    this.#state = next
    this.#log.info({ state: next, prev }, 'session state')
    this.emit('state', next, prev)
  }

  #clearRetry(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer)
    this.#retryTimer = null
    this.#nextRetryAt = null
  }

  async #dropSocket(): Promise<void> {
    const sock = this.#sock
    this.#sock = null
    this.#gen++
    this.#qr = null
    if (sock) await sock.end(undefined).catch(() => undefined)
  }

  /**
   * connect() with failures (store unreachable, socket construction) turned into a backoff retry. A
   * fatal store error (wrong encryption key, schema not migrated) stops the session instead, and
   * start() rethrows it so the server refuses to start with that sentence.
   */
  async #connectSafely(options: { rethrowFatal?: boolean } = {}): Promise<void> {
    try {
      await this.#connect()
    } catch (err) {
      if (this.#lifetime.signal.aborted) return
      if (isStoreDataError(err)) {
        this.#log.error({ code: err.code, reason: err.message }, 'the stored session cannot be opened; session stopped')
        this.#lastDisconnect = { code: null, reason: err.message, at: new Date().toISOString() }
        if (options.rethrowFatal) throw err
        // Not awaited: stop() drains pending work, which includes this very step.
        void this.stop()
        return
      }
      this.#log.error({ err }, 'could not start the WhatsApp socket; retrying')
      this.#lastDisconnect = { code: null, reason: 'socket could not start', at: new Date().toISOString() }
      this.#scheduleReconnect()
    }
  }

  async #connect(): Promise<void> {
    if (this.#lifetime.signal.aborted || !this.#mayConnect) return
    if (!this.#handle) {
      const opened = await this.#opts.openHandle(this.#fencingToken === null ? {} : { fencingToken: this.#fencingToken })
      if (this.#lifetime.signal.aborted || !this.#mayConnect) {
        await opened.close().catch(() => undefined)
        return
      }
      this.#handle = opened
    }
    const handle = this.#handle
    if (!handle.state.creds.me) this.#linking = true
    const gen = ++this.#gen
    const sock = makeWASocket({
      auth: handle.state,
      logger: this.#baileysLog,
      browser: Browsers.ubuntu('Chrome'),
      markOnlineOnConnect: false,
      syncFullHistory: false,
      qrTimeout: this.#opts.qrTimeoutMs,
      ...(this.#opts.waWsUrl ? { waWebSocketUrl: this.#opts.waWsUrl } : {}),
    })
    this.#sock = sock
    this.#setState('connecting')
    sock.ev.on('creds.update', () => {
      // Creds changed in place on handle.state.creds; persisting is the store's job, awaited on stop().
      void this.#track(handle.saveCreds()).catch((err: unknown) => this.#log.error({ err }, 'saving credentials failed'))
    })
    sock.ev.on('connection.update', (update) => {
      if (gen !== this.#gen) return
      if (update.qr) this.#onQr(update.qr)
      if (update.connection === 'open') this.#onOpen(sock, handle)
      else if (update.connection === 'close') this.#onClose(update.lastDisconnect?.error)
    })
  }

  #onQr(qr: string): void {
    const expiresAt = new Date(Date.now() + this.#opts.qrTimeoutMs)
    this.#qr = { value: qr, expiresAt }
    this.#setState('qr')
    this.emit('qr', expiresAt)
  }

  #onOpen(sock: WASocket, handle: AuthStateHandle): void {
    const user = sock.user
    const jid = user?.id ?? handle.state.creds.me?.id ?? ''
    this.#account = { jid, name: user?.name ?? user?.notify ?? user?.verifiedName ?? null }
    this.#connectedSince = new Date()
    this.#qr = null
    this.#attempt = 0
    this.#restarts = 0
    const newLogin = this.#linking
    this.#linking = false
    this.#setState('open')
    void this.#track(handle.setStatus('active', jid)).catch((err: unknown) => this.#log.error({ err }, 'recording session status failed'))
    this.emit('open', { jid, newLogin })
  }

  #onClose(error: Error | undefined): void {
    const code = closeCode(error)
    const info: LastDisconnect = { code, reason: error?.message ?? 'connection closed', at: new Date().toISOString() }
    this.#lastDisconnect = info
    this.#sock = null
    this.#qr = null
    this.#connectedSince = null
    this.#gen++
    this.emit('disconnect', info)
    if (this.#lifetime.signal.aborted || !this.#mayConnect) return
    this.#log.warn({ code, reason: info.reason }, 'WhatsApp connection closed')

    if (code === DisconnectReason.restartRequired && this.#restarts < MAX_IMMEDIATE_RESTARTS) {
      // Sent right after a successful pairing: Baileys expects a new socket on the same creds at once.
      this.#restarts++
      void this.#track(this.#connectSafely())
    } else if (code === DisconnectReason.loggedOut && !this.#linking) {
      this.#wiping = this.#track(this.#onLoggedOut()).finally(() => {
        this.#wiping = null
      })
    } else if (code === DisconnectReason.connectionReplaced) {
      // Another client (or another server instance) took over this account: reconnecting would only kick
      // it off in turn, forever. Stop and let an operator decide (POST /reconnect).
      this.#setState('replaced')
      this.emit('replaced')
    } else {
      // 408/428/500/503 and anything unknown; also a 401 for creds that never linked (no point wiping).
      this.#scheduleReconnect()
    }
  }

  /** The phone unlinked this device: its keys are useless now. Wipe them and offer a fresh QR. */
  async #onLoggedOut(): Promise<void> {
    this.#setState('logged_out')
    this.#account = null
    this.emit('loggedOut')
    const handle = this.#handle
    this.#handle = null
    if (handle) {
      await handle.wipe().catch((err: unknown) => this.#log.error({ err }, 'wiping the logged-out session failed'))
      await handle.close().catch((err: unknown) => this.#log.warn({ err }, 'closing the logged-out session failed'))
    }
    this.#attempt = 0
    // The next open() finds nothing stored and starts from fresh credentials: a new QR.
    await this.#connectSafely()
  }

  #scheduleReconnect(): void {
    if (this.#lifetime.signal.aborted || !this.#mayConnect) return
    this.#clearRetry()
    const delay = backoffDelay(this.#attempt, this.#opts.reconnect, this.#opts.random)
    this.#attempt++
    this.#nextRetryAt = new Date(Date.now() + delay)
    this.#setState('reconnecting')
    this.#log.info({ attempt: this.#attempt, delayMs: delay }, 'reconnecting after backoff')
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null
      this.#nextRetryAt = null
      void this.#track(this.#connectSafely())
    }, delay)
  }
}

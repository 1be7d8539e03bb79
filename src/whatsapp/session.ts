// One WhatsApp account, as the rest of the server sees it: start, stop, reconnect, status, send. Every
// piece of long-lived work (reconnect timer, in-flight writes, sends, lease steps) is owned here so that
// stop() can cancel and await all of it. The socket and its close codes are connection.ts (with the
// pure disconnect-policy.ts); the lease glue is session-lease.ts.
import { EventEmitter } from 'node:events'
import type { Logger } from 'pino'
import type { StoreHealth } from '../keystore/types.js'
import type { LeaseState, LostReason } from '../lease/types.js'
import { systemClock, type Clock } from '../lib/clock.js'
import type { SessionState } from '../lib/session-states.js'
import type { StoreDataError } from '../lib/store-errors.js'
import { SessionConnection, type ConnectionHost } from './connection.js'
import { SessionError } from './errors.js'
import { whileAdmitted } from './gate.js'
import { normalisePhone, toJid } from './jid.js'
import { RetryTimer } from './retry-timer.js'
import { silentReporter, type SessionReporter } from './observers.js'
import { SessionLeaseLink } from './session-lease.js'
import { whenReached } from './state-wait.js'
import type { SessionEvents, SessionLeaseStatus, SessionOptions, SessionSettled, SessionStatusSnapshot } from './session-types.js'
import { logoutOn, pairingCodeOn, sendTextOn } from './socket-actions.js'
import type { WASocket } from './socket.js'

export { SESSION_STATES, type SessionState } from '../lib/session-states.js'
export type * from './session-types.js'

/** States in which the first connection attempt after start() has an outcome. */
const SETTLED: ReadonlySet<SessionState> = new Set(['open', 'qr', 'reconnecting', 'logged_out', 'replaced', 'stopped'])
/** The longest an admitted connection attempt keeps its place in the admission gate. */
const ADMISSION_HOLD_MAX_MS = 30_000

const stoppedError = () => new SessionError('SESSION_STOPPED', 'The session was stopped.')

export class Session extends EventEmitter<SessionEvents> {
  readonly clientId: string
  readonly #opts: SessionOptions
  readonly #log: Logger
  readonly #clock: Clock
  /** Aborted by stop(): in-flight async steps check it after every await. */
  readonly #lifetime = new AbortController()
  readonly #pending = new Set<Promise<unknown>>()
  readonly #startedAt = new Date()
  readonly #conn: SessionConnection
  readonly #reporter: SessionReporter
  #state: SessionState = 'starting'
  #started = false
  #reconnecting: Promise<void> | null = null
  #stopping: Promise<void> | null = null
  #lease: SessionLeaseLink | null = null
  #fatal: StoreDataError | undefined
  /** Why the session stops, for the observers' last state change. */
  #stopReason: { reason: string; code: number | null } | null = null
  #settled: Promise<SessionSettled> | null = null

  constructor(options: SessionOptions) {
    super()
    this.clientId = options.clientId
    this.#opts = options
    this.#clock = options.clock ?? systemClock
    this.#log = options.logger.child({ clientId: options.clientId })
    this.#reporter = options.reporter ?? silentReporter
    // Baileys logs every frame at debug/trace; warn is what an operator can act on. Never louder than
    // the app's own level (tests run silent).
    const quiet = this.#log.levelVal > this.#log.levels.values.warn ? this.#log.level : 'warn'
    const host: ConnectionHost = {
      events: this,
      log: this.#log,
      baileysLog: this.#log.child({ component: 'baileys' }, { level: quiet }),
      reporter: this.#reporter,
      stopping: () => this.#lifetime.signal.aborted,
      mayConnect: () => this.#mayConnect,
      fencingToken: () => this.#lease?.fencingToken ?? null,
      setState: (next, why) => this.#setState(next, why),
      track: (promise) => this.#track(promise),
      fatal: (error) => {
        this.#fatal = error
        this.#stopReason = { reason: error.message, code: null }
        this.emit('fatal', error)
        // Not awaited: stop() drains pending work, which includes the step that found the error.
        void this.stop()
      },
    }
    this.#conn = new SessionConnection(host, options, new RetryTimer(this.#clock, options.reconnect, options.random))
  }

  get state(): SessionState { return this.#state }

  /** start() was called (a session queued for resume has not started yet). */
  get started(): boolean { return this.#started }

  /**
   * Opens the stored auth state and the first socket; resolves once the socket is created, not open.
   * With a lease: starts in standby and connects once the lease is held (resolves at once).
   */
  async start(): Promise<void> {
    if (this.#lifetime.signal.aborted) throw stoppedError()
    if (this.#started) return
    this.#started = true
    if (this.#opts.lease) {
      this.#setState('standby')
      this.#lease = new SessionLeaseLink(this.#opts.lease, {
        acquired: (token) => this.#track(this.#onLeaseAcquired(token)),
        lost: (token, reason) => this.#track(this.#onLeaseLost(token, reason)),
        changed: () => this.emit('leaseState'),
      }, this.#log)
      this.#lease.start()
      return
    }
    await this.#track(this.#connectAdmitted({ rethrowFatal: true }))
  }

  /**
   * A first connection (after start() or a lease acquisition) through the admission gate: it waits
   * for a place, and keeps it until the attempt has an outcome (bounded), so a restart with hundreds of
   * sessions, or a takeover of hundreds of leases, does not open them all at once.
   */
  #connectAdmitted(options: { rethrowFatal?: boolean } = {}): Promise<void> {
    const signal = this.#lifetime.signal
    return whileAdmitted(this.#opts.admission, signal, () => this.#conn.connectSafely(options),
      // Held until the state says how the attempt ended (QR, open, backing off, stopped...).
      () => whenReached(this, () => this.#state !== 'starting' && this.#state !== 'connecting', { clock: this.#clock, maxMs: ADMISSION_HOLD_MAX_MS, signal }))
  }

  /**
   * Resolves once the first connection attempt has an outcome (open, QR shown, failed and backing off,
   * logged out, replaced, stopped, waiting behind another instance's lease, placed on another
   * instance, or a lease attempt that failed); never rejects.
   */
  settled(): Promise<SessionSettled> {
    this.#settled ??= whenReached(this, () => {
      const lease = this.#lease
      return SETTLED.has(this.#state) || (this.#state === 'standby' && (lease?.heldElsewhere === true || lease?.attemptFailed === true || lease?.deferred === true))
    }).then(() => ({ state: this.#state, ...(this.#fatal ? { error: this.#fatal } : {}) }))
    return this.#settled
  }

  /** Whether this instance may connect: always without a lease, else only while holding it. */
  get #mayConnect(): boolean { return !this.#opts.lease || this.#lease?.held === true }

  async #onLeaseAcquired(fencingToken: number): Promise<void> {
    if (this.#lifetime.signal.aborted) return
    this.#conn.retry.reset()
    this.#conn.restarts = 0
    this.#log.info({ fencingToken }, 'session lease held: connecting')
    this.#setState('connecting')
    await this.#connectAdmitted()
  }

  /** The lease can no longer be renewed (or another instance took it): close the socket before it expires. */
  async #onLeaseLost(fencingToken: number, reason: LostReason): Promise<void> {
    this.#log.warn({ fencingToken, reason }, 'session lease lost: closing the WhatsApp connection')
    // Say so at once: the flush below can take long during a database outage.
    this.#conn.clearAccount()
    if (!this.#lifetime.signal.aborted) this.#setState('standby', { reason: `session lease lost (${reason})`, code: null })
    this.#conn.retry.cancel()
    await this.#conn.drop()
    if (this.#conn.wiping) await this.#conn.wiping.catch(() => undefined)
    // Flushes under the old token (still valid: onLost runs before the lease can expire).
    await this.#conn.closeHandle('flushing the session store')
  }

  /**
   * Stops for good: cancels the reconnect timer, closes the socket, awaits in-flight work, flushes the
   * store, then releases the lease (unless releaseLease is false: the manager releases every lease of
   * a shutdown in one statement once all sessions have stopped).
   */
  stop(options: { releaseLease?: boolean } = {}): Promise<void> {
    this.#stopping ??= this.#stop(options.releaseLease ?? true)
    return this.#stopping
  }

  /** Forces a fresh socket now (cancelling any backoff wait). Concurrent calls share one attempt. */
  reconnect(): Promise<void> {
    if (this.#lifetime.signal.aborted) return Promise.reject(stoppedError())
    if (!this.#mayConnect) return Promise.reject(this.#standbyError())
    this.#reconnecting ??= this.#track(
      (async () => {
        if (this.#conn.wiping) await this.#conn.wiping
        this.#conn.retry.cancel()
        this.#conn.retry.reset()
        this.#conn.restarts = 0
        await this.#conn.drop()
        this.#setState('connecting')
        await this.#conn.connectSafely()
      })(),
    ).finally(() => {
      this.#reconnecting = null
    })
    return this.#reconnecting
  }

  status(): SessionStatusSnapshot {
    const open = this.#state === 'open'
    const { account, connectedSince, retry } = this.#conn
    return {
      clientId: this.clientId,
      state: this.#state,
      account: account && open ? { ...account } : null,
      connectedSince: open ? (connectedSince?.toISOString() ?? null) : null,
      lastDisconnect: this.#conn.lastDisconnect,
      reconnect: { attempt: retry.attempt, nextRetryAt: retry.nextRetryAt?.toISOString() ?? null },
      qrAvailable: this.qr() !== null,
      startedAt: this.#startedAt.toISOString(),
      lease: this.leaseStatus(),
    }
  }

  leaseStatus(): SessionLeaseStatus | null { return this.#lease?.status() ?? null }

  /** The raw lease state (metrics, session-info), null without a lease. */
  leaseState(): LeaseState | null {
    return this.#lease?.state ?? null
  }

  #standbyError(): SessionError { return this.#lease?.standbyError() ?? stoppedError() }

  /** Refuses operations that would touch WhatsApp or the stored session while another instance holds it. */
  assertLeaseHolder(): void {
    if (this.#lease && !this.#mayConnect) throw this.#standbyError()
  }

  /** The current QR while it is valid, else null. */
  qr(): { value: string; expiresAt: Date } | null {
    const qr = this.#conn.qr
    if (this.#state !== 'qr' || !qr || qr.expiresAt.getTime() <= Date.now()) return null
    return qr
  }

  storeHealth(): StoreHealth | null { return this.#conn.handle?.health() ?? null }

  async keyCounts(): Promise<Record<string, number>> { return (await this.#conn.handle?.keyCounts()) ?? {} }

  get uptimeSeconds(): number { return Math.round((Date.now() - this.#startedAt.getTime()) / 1000) }

  /** Sends a text; resolves with WhatsApp's message id. */
  async sendText(to: string, text: string): Promise<{ messageId: string; jid: string }> {
    const jid = toJid(to)
    return { messageId: await this.withSocket((sock) => sendTextOn(sock, jid, text)), jid }
  }

  /**
   * Runs fn on the open socket, owned by the session (stop() awaits it). SESSION_NOT_OPEN unless the
   * session is open: what needs WhatsApp (sending, media, number checks) goes through here.
   */
  async withSocket<T>(fn: (sock: WASocket) => Promise<T>): Promise<T> {
    const sock = this.#conn.sock
    if (this.#state !== 'open' || !sock) {
      throw new SessionError('SESSION_NOT_OPEN', `The session is ${this.#state}, not open.`, { state: this.#state })
    }
    return this.#track(fn(sock))
  }

  /** Links by phone number instead of QR: only while the socket waits for a link (state qr). */
  async requestPairingCode(phone: string): Promise<string> {
    const digits = normalisePhone(phone)
    if (this.#state === 'open') throw new SessionError('ALREADY_CONNECTED', 'The session is already linked and open.')
    const sock = this.#conn.sock
    if (this.#state !== 'qr' || !sock) {
      throw new SessionError('PAIRING_NOT_AVAILABLE', `The session is ${this.#state}; wait for state qr.`, { state: this.#state })
    }
    return this.#track(pairingCodeOn(sock, digits))
  }

  /** Unlinks the device on WhatsApp's side when connected (best effort, bounded), then stops. */
  async logout(): Promise<void> {
    // Our own logout must not run the "logged out remotely" path (wipe + fresh QR): detach the socket first.
    const sock = this.#state === 'open' ? this.#conn.detach() : null
    if (sock) await logoutOn(sock, this.#clock, this.#log)
    await this.stop()
  }

  async #stop(releaseLease: boolean): Promise<void> {
    this.#lifetime.abort()
    this.#conn.retry.cancel()
    await this.#conn.drop()
    // New work can be queued while we wait (a creds write from the closing socket): drain until empty.
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending])
    this.#conn.clearAccount()
    await this.#conn.closeHandle('flushing the session store')
    // Hand-over: socket closed and keys flushed, so the next instance may connect at once.
    if (this.#lease) await this.#lease.stop(releaseLease).catch((err: unknown) => this.#log.warn({ err }, 'releasing the session lease failed'))
    this.#setState('stopped', this.#stopReason ?? { reason: 'stopped', code: null })
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#pending.add(promise)
    const remove = () => this.#pending.delete(promise)
    promise.then(remove, remove)
    return promise
  }

  #setState(next: SessionState, why?: { reason: string | null; code: number | null }): void {
    const prev = this.#state
    if (prev === next || prev === 'stopped') return
    this.#state = next
    this.#log.info({ state: next, prev }, 'session state')
    this.emit('state', next, prev)
    this.#reporter.state({ state: next, prev, reason: why?.reason ?? null, code: why?.code ?? null })
  }
}

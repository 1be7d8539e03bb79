// One session's connection to WhatsApp: the stored auth state (opened once, re-opened after a logout
// wipe) and one Baileys socket at a time on it. It follows the socket's events (QR, open, close),
// applies the disconnect policy and the reconnect backoff, and reports through its host (the Session),
// which owns the lifetime, the lease and the public state.
import type { EventEmitter } from 'node:events'
import type { Logger } from 'pino'
import type { AuthStateHandle, OpenOptions } from '../keystore/types.js'
import type { SessionState } from '../lib/session-states.js'
import { isStoreDataError, type StoreDataError } from '../lib/store-errors.js'
import { closeAction, closeCode } from './disconnect-policy.js'
import type { RetryTimer } from './retry-timer.js'
import type { SessionReporter } from './observers.js'
import type { LastDisconnect, SessionEvents } from './session-types.js'
import { openSocket, type WASocket } from './socket.js'

export interface ConnectionHost {
  readonly events: EventEmitter<SessionEvents>
  readonly log: Logger
  readonly baileysLog: Logger
  /** The manager's observers, bound to this session. */
  readonly reporter: SessionReporter
  /** stop() was called: nothing new may start. */
  stopping(): boolean
  /** Without a lease always; with one only while it is held. */
  mayConnect(): boolean
  fencingToken(): number | null
  setState(next: SessionState, why?: { reason: string | null; code: number | null }): void
  /** Owns a promise until it settles (stop() awaits them all). */
  track<T>(promise: Promise<T>): Promise<T>
  /** The stored session cannot be opened: the host stops the session. */
  fatal(error: StoreDataError): void
}

export interface ConnectionOptions {
  openHandle: (options: OpenOptions) => Promise<AuthStateHandle>
  qrTimeoutMs: number
  waWsUrl?: string
}

export class SessionConnection {
  readonly #host: ConnectionHost
  readonly #opts: ConnectionOptions
  readonly retry: RetryTimer
  handle: AuthStateHandle | null = null
  sock: WASocket | null = null
  qr: { value: string; expiresAt: Date } | null = null
  account: { jid: string; name: string | null } | null = null
  connectedSince: Date | null = null
  lastDisconnect: LastDisconnect | null = null
  /** The logged-out wipe in progress: a forced reconnect waits for it instead of racing it for the store. */
  wiping: Promise<void> | null = null
  /** Immediate restarts (515) in a row. */
  restarts = 0
  /** Incremented whenever a socket is dropped: events from older sockets are ignored. */
  #gen = 0
  #linking = false

  constructor(host: ConnectionHost, options: ConnectionOptions, retry: RetryTimer) {
    this.#host = host
    this.#opts = options
    this.retry = retry
  }

  /** Forget the account (lease lost, logged out): nothing may show as connected any more. */
  clearAccount(): void {
    this.account = null
    this.connectedSince = null
  }

  /** Closes the current socket, if any; its later events are ignored. */
  async drop(): Promise<void> {
    const sock = this.sock
    this.sock = null
    this.#gen++
    this.qr = null
    if (sock) await sock.end(undefined).catch(() => undefined)
  }

  /** Takes the socket away without closing it (logout closes it after telling WhatsApp). */
  detach(): WASocket | null {
    const sock = this.sock
    this.sock = null
    this.#gen++
    return sock
  }

  /** Flushes and closes the stored state (it is re-opened at the next connect). */
  async closeHandle(what: string): Promise<void> {
    const handle = this.handle
    this.handle = null
    if (handle) await handle.close().catch((err: unknown) => this.#host.log.warn({ err }, `${what} failed`))
  }

  /**
   * connect() with failures (store unreachable, socket construction) turned into a backoff retry. A
   * fatal store error (wrong encryption key, corrupt value, schema not migrated) goes to the host,
   * and with rethrowFatal to the caller too (start() refuses with that sentence).
   */
  async connectSafely(options: { rethrowFatal?: boolean } = {}): Promise<void> {
    try {
      await this.#connect()
    } catch (err) {
      if (this.#host.stopping()) return
      if (isStoreDataError(err)) {
        this.#host.log.error({ code: err.code, reason: err.message }, 'the stored session cannot be opened; session stopped')
        this.lastDisconnect = { code: null, reason: err.message, at: new Date().toISOString() }
        this.#host.fatal(err)
        if (options.rethrowFatal) throw err
        return
      }
      this.#host.log.error({ err }, 'could not start the WhatsApp socket; retrying')
      this.lastDisconnect = { code: null, reason: 'socket could not start', at: new Date().toISOString() }
      this.scheduleReconnect()
    }
  }

  scheduleReconnect(): void {
    if (this.#host.stopping() || !this.#host.mayConnect()) return
    const delay = this.retry.schedule(() => void this.#host.track(this.connectSafely()))
    const last = this.lastDisconnect
    this.#host.setState('reconnecting', last ? { reason: last.reason, code: last.code } : undefined)
    this.#host.log.info({ attempt: this.retry.attempt, delayMs: delay }, 'reconnecting after backoff')
  }

  async #connect(): Promise<void> {
    const host = this.#host
    if (host.stopping() || !host.mayConnect()) return
    if (!this.handle) {
      const token = host.fencingToken()
      const opened = await this.#opts.openHandle(token === null ? {} : { fencingToken: token })
      if (host.stopping() || !host.mayConnect()) {
        await opened.close().catch(() => undefined)
        return
      }
      this.handle = opened
    }
    const handle = this.handle
    if (!handle.state.creds.me) this.#linking = true
    const gen = ++this.#gen
    const sock = openSocket({
      handle, logger: host.baileysLog, qrTimeoutMs: this.#opts.qrTimeoutMs, waWsUrl: this.#opts.waWsUrl, reporter: host.reporter,
    })
    this.sock = sock
    host.setState('connecting')
    sock.ev.on('creds.update', () => {
      // Creds changed in place on handle.state.creds; persisting is the store's job, awaited on stop().
      void host.track(handle.saveCreds()).catch((err: unknown) => host.log.error({ err }, 'saving credentials failed'))
    })
    sock.ev.on('connection.update', (update) => {
      if (gen !== this.#gen) return
      if (update.qr) this.#onQr(update.qr)
      if (update.connection === 'open') this.#onOpen(sock, handle)
      else if (update.connection === 'close') this.#onClose(update.lastDisconnect?.error)
    })
    // Observers get what arrives (after its receipt; beforeReceipt saw each message first).
    sock.ev.on('messages.upsert', (upsert) => {
      if (gen === this.#gen) host.reporter.messages({ messages: upsert.messages, type: upsert.type })
    })
    sock.ev.on('messages.update', (updates) => {
      if (gen === this.#gen) host.reporter.messageUpdates(updates)
    })
    sock.ev.on('message-receipt.update', (receipts) => {
      if (gen === this.#gen) host.reporter.receipts(receipts)
    })
  }

  #onQr(qr: string): void {
    const expiresAt = new Date(Date.now() + this.#opts.qrTimeoutMs)
    this.qr = { value: qr, expiresAt }
    this.#host.setState('qr')
    this.#host.events.emit('qr', expiresAt)
    this.#host.reporter.qr({ value: qr, expiresAt })
  }

  #onOpen(sock: WASocket, handle: AuthStateHandle): void {
    const user = sock.user
    const jid = user?.id ?? handle.state.creds.me?.id ?? ''
    this.account = { jid, name: user?.name ?? user?.notify ?? user?.verifiedName ?? null }
    this.connectedSince = new Date()
    this.qr = null
    this.retry.reset()
    this.restarts = 0
    const newLogin = this.#linking
    this.#linking = false
    this.#host.setState('open')
    void this.#host.track(handle.setStatus('active', jid)).catch((err: unknown) => this.#host.log.error({ err }, 'recording session status failed'))
    this.#host.events.emit('open', { jid, newLogin })
  }

  #onClose(error: Error | undefined): void {
    const host = this.#host
    const code = closeCode(error)
    const info: LastDisconnect = { code, reason: error?.message ?? 'connection closed', at: new Date().toISOString() }
    this.lastDisconnect = info
    this.sock = null
    this.qr = null
    this.connectedSince = null
    this.#gen++
    host.events.emit('disconnect', info)
    const action = closeAction({ code, stopping: host.stopping(), mayConnect: host.mayConnect(), linking: this.#linking, restarts: this.restarts })
    const why = { reason: info.reason, code }
    if (action === 'stop') {
      // No new socket here; never leave 'open' showing for a socket that is gone.
      if (!host.stopping()) host.setState('standby', why)
      return
    }
    host.log.warn({ code, reason: info.reason }, 'WhatsApp connection closed')
    if (action === 'restart') {
      this.restarts++
      void host.track(this.connectSafely())
    } else if (action === 'wipe') {
      this.wiping = host.track(this.#onLoggedOut()).finally(() => {
        this.wiping = null
      })
    } else if (action === 'replaced') {
      host.setState('replaced', why)
      host.events.emit('replaced')
    } else {
      this.scheduleReconnect()
    }
  }

  /** The phone unlinked this device: its keys are useless now. Wipe them and offer a fresh QR. */
  async #onLoggedOut(): Promise<void> {
    this.#host.setState('logged_out', { reason: this.lastDisconnect?.reason ?? 'logged out', code: this.lastDisconnect?.code ?? null })
    this.account = null
    this.#host.events.emit('loggedOut')
    const handle = this.handle
    this.handle = null
    if (handle) {
      await handle.wipe().catch((err: unknown) => this.#host.log.error({ err }, 'wiping the logged-out session failed'))
      await handle.close().catch((err: unknown) => this.#host.log.warn({ err }, 'closing the logged-out session failed'))
    }
    this.retry.reset()
    // The next open() finds nothing stored and starts from fresh credentials: a new QR.
    await this.connectSafely()
  }
}

// One WhatsApp account: one Baileys socket at a time on the keystore's AuthStateHandle, with an explicit
// state and every piece of long-lived work (reconnect timer, in-flight writes, sends) owned here so that
// stop() can cancel and await all of it. Baileys does not reconnect by itself: the close codes below
// decide what happens next (restart at once, back off, wipe and offer a new QR, or stop for good).
import { EventEmitter } from 'node:events'
import makeWASocket, { Browsers, DisconnectReason, type WASocket } from '@whiskeysockets/baileys'
import type { Logger } from 'pino'
import type { AuthStateHandle, StoreHealth } from '../keystore/types.js'
import { backoffDelay, type BackoffOptions } from './backoff.js'
import { SessionError } from './errors.js'
import { normalisePhone, toJid } from './jid.js'

export const SESSION_STATES = [
  'starting', 'qr', 'connecting', 'open', 'reconnecting', 'logged_out', 'replaced', 'stopped', 'standby',
] as const
export type SessionState = (typeof SESSION_STATES)[number]

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
}

export interface SessionOptions {
  clientId: string
  /** Opens (or re-opens after a logout wipe) the stored auth state: SessionStore.open(clientId). */
  openHandle: () => Promise<AuthStateHandle>
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

  /** Opens the stored auth state and the first socket. Resolves once the socket is created, not open. */
  async start(): Promise<void> {
    if (this.#lifetime.signal.aborted) throw new SessionError('SESSION_STOPPED', 'The session was stopped.')
    if (this.#sock || this.#handle) return
    await this.#track(this.#connectSafely())
  }

  /** Stops for good: cancels the reconnect timer, closes the socket, awaits in-flight work, flushes the store. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop()
    return this.#stopping
  }

  /** Forces a fresh socket now (cancelling any backoff wait). Concurrent calls share one attempt. */
  reconnect(): Promise<void> {
    if (this.#lifetime.signal.aborted) return Promise.reject(new SessionError('SESSION_STOPPED', 'The session was stopped.'))
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
    }
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

  /** connect() with failures (store unreadable, socket construction) turned into a backoff retry. */
  async #connectSafely(): Promise<void> {
    try {
      await this.#connect()
    } catch (err) {
      if (this.#lifetime.signal.aborted) return
      this.#log.error({ err }, 'could not start the WhatsApp socket; retrying')
      this.#lastDisconnect = { code: null, reason: 'socket could not start', at: new Date().toISOString() }
      this.#scheduleReconnect()
    }
  }

  async #connect(): Promise<void> {
    if (this.#lifetime.signal.aborted) return
    if (!this.#handle) this.#handle = await this.#opts.openHandle()
    if (this.#lifetime.signal.aborted) return
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
    if (this.#lifetime.signal.aborted) return
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
    if (this.#lifetime.signal.aborted) return
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

// A LeaseHolder is one client id's lease for as long as its session runs: standby until the batch
// loop (loop.ts) acquires it, held while the loop renews it, back to standby once it is lost. The
// holder issues no statement and owns no timer of its own: the loop runs one statement per tick for
// all holders. Safety rule: the holder declares the lease lost (onLost) at a LOCAL deadline = the
// monotonic time the last successful acquire/renew was SENT + ttl - safetyMargin. The database set
// expires_at = its now() + ttl, and its now() is later than our send time, so the deadline always
// falls at least safetyMargin before the real expiry, whatever the network does.
import type { Logger } from 'pino'
import type { Clock } from '../lib/clock.js'
import type { ResolvedLeaseOptions } from './options.js'
import type { LeaseOutcome, RenewRefusal } from './statements.js'
import type { HoldOptions, LeaseState, LostReason } from './types.js'

/** What a holder needs from the loop that batches its statements. */
export interface HolderLoop {
  readonly config: ResolvedLeaseOptions
  readonly clock: Clock
  readonly logger?: Logger
  /** The holder's phase changed: put it in (or take it out of) the acquire or the renew batch. */
  place(holder: LeaseHolder): void
  /** Resolves once no batch statement is in flight. */
  idle(): Promise<void>
  /** Expire this client id's live lease if it is ours (one statement). */
  release(clientId: string): Promise<boolean>
}

/** new: not started; losing: onLost is running (in no batch, so onAcquired cannot overlap it). */
export type HolderPhase = 'new' | 'standby' | 'held' | 'losing' | 'stopped'

/** Shortest wait between two standby polls, so a lease about to expire is not hammered. */
export const MIN_POLL_MS = 20

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

export class LeaseHolder {
  readonly clientId: string
  readonly #loop: HolderLoop
  readonly #options: HoldOptions
  #state: LeaseState
  #phase: HolderPhase = 'new'
  /** Bumped on every acquisition, loss and stop: the loop drops answers meant for an older one. */
  #generation = 0
  /** Standby: when the next acquisition attempt is due (loop clock). */
  #nextPollAt = 0
  /** Held: the local deadline (loop clock). */
  #deadlineAt = Infinity
  /** Standby placed elsewhere: when its row was last read (loop clock). */
  #readAt = -Infinity
  #stopping: Promise<boolean> | null = null
  readonly #onAbort = () => { void this.stop({ release: false }) }

  constructor(clientId: string, loop: HolderLoop, options: HoldOptions) {
    this.clientId = clientId
    this.#loop = loop
    this.#options = options
    this.#state = {
      clientId,
      owner: loop.config.owner,
      role: 'standby',
      fencingToken: null,
      holder: null,
      expiresAt: null,
      takeovers: 0,
      acquisitions: 0,
      renewals: 0,
      renewFailures: 0,
      losses: 0,
      lastError: null,
      deferredTo: null,
    }
  }

  /**
   * The current state (session-info, metrics, the session's checks). Never changed in place: every
   * change replaces it, so a caller may keep what it got; reading it allocates nothing (it is read for
   * every session on every heartbeat).
   */
  get state(): Readonly<LeaseState> {
    return this.#state
  }

  /** The token to pass to store.open(clientId, { fencingToken }) while role is 'holder'. */
  get fencingToken(): number | null {
    return this.#phase === 'held' ? this.#state.fencingToken : null
  }

  get phase(): HolderPhase {
    return this.#phase
  }

  get generation(): number {
    return this.#generation
  }

  get nextPollAt(): number {
    return this.#nextPollAt
  }

  get deadlineAt(): number {
    return this.#deadlineAt
  }

  /** Begins in standby; the loop tries to acquire at once. Idempotent; a stopped holder cannot restart. */
  start(): void {
    if (this.#phase !== 'new') return
    const { signal } = this.#options
    if (signal?.aborted) { void this.stop({ release: false }); return }
    signal?.addEventListener('abort', this.#onAbort, { once: true })
    this.#toStandby(0)
  }

  /**
   * Leaves the batches, awaits the statement in flight (bounded by statementTimeoutMs) and, with
   * release (the default), expires our lease so the next instance takes over at once. Call it only
   * after the socket is closed and the keys are flushed. Resolves to whether a lease was released.
   */
  stop(options: { release?: boolean } = {}): Promise<boolean> {
    this.#stopping ??= this.#stop(options.release ?? true)
    return this.#stopping
  }

  async #stop(release: boolean): Promise<boolean> {
    const started = this.#phase !== 'new'
    const wasHolder = this.#phase === 'held'
    this.#generation++
    this.#phase = 'stopped'
    this.#loop.place(this)
    this.#options.signal?.removeEventListener('abort', this.#onAbort)
    this.#update({ role: 'stopped' })
    await this.#loop.idle()
    let released = false
    // Without a token: an attempt that was in flight may have acquired the lease after we stopped.
    if (release && started) {
      try {
        released = await this.#loop.release(this.clientId)
      } catch (err) {
        this.#loop.logger?.warn({ err, clientId: this.clientId }, 'session lease release failed; it expires by itself')
      }
    }
    this.#loop.logger?.debug({ clientId: this.clientId, wasHolder, released }, 'session lease holder stopped')
    return released
  }

  /** The loop's acquisition attempt answered (undefined: no row yet, a concurrent first insert). */
  acquireAnswered(o: LeaseOutcome | undefined, sentAt: number): void {
    const { config, clock } = this.#loop
    if (!o) {
      this.#nextPollAt = clock.now() + MIN_POLL_MS
      return
    }
    const deadlineAt = sentAt + config.ttlMs - config.safetyMarginMs
    if (o.ok && clock.now() < deadlineAt) {
      this.#acquired(o, deadlineAt)
      return
    }
    // Not ours (or ours but the answer came too late to be safe: the next attempt extends it).
    this.#update({ holder: o.owner, fencingToken: o.fencingToken, expiresAt: o.expiresAt, takeovers: o.takeovers, lastError: null, deferredTo: null })
    const wait = o.ok ? 0 : Math.min(config.pollEveryMs, Math.max(MIN_POLL_MS, o.remainingMs + MIN_POLL_MS))
    this.#nextPollAt = clock.now() + wait
  }

  /**
   * Placement gives the lease to another instance: no attempt now; asked again after a poll period.
   * Returns whether the current row should be read (placed elsewhere anew, or not read for a ttl), so
   * this standby can still say who holds the session.
   */
  deferred(to: string): boolean {
    const now = this.#loop.clock.now()
    const read = this.#state.deferredTo !== to || now - this.#readAt >= this.#loop.config.ttlMs
    if (this.#state.deferredTo !== to) this.#update({ deferredTo: to })
    if (read) this.#readAt = now
    this.#nextPollAt = now + this.#loop.config.pollEveryMs
    return read
  }

  /** The row read for a standby placed elsewhere (undefined: no row). Changes only what it knows. */
  rowRead(o: LeaseOutcome | undefined): void {
    if (this.#phase !== 'standby') return
    const live = o !== undefined && o.remainingMs > 0
    this.#update({
      holder: live ? o.owner : null,
      fencingToken: o?.fencingToken ?? null,
      expiresAt: live ? o.expiresAt : null,
      takeovers: o?.takeovers ?? this.#state.takeovers,
    })
  }

  /** Placement changed: in standby, be asked again at the next poll tick rather than a poll period later. */
  pollNow(): void {
    if (this.#phase === 'standby') this.#nextPollAt = Math.min(this.#nextPollAt, this.#loop.clock.now())
  }

  acquireFailed(err: unknown): void {
    this.#update({ lastError: message(err) })
    this.#nextPollAt = this.#loop.clock.now() + this.#loop.config.pollEveryMs
  }

  /** The loop's renewal extended this lease until expiresAt (the database's time). */
  renewed(expiresAt: Date, sentAt: number): void {
    const { config } = this.#loop
    this.#deadlineAt = sentAt + config.ttlMs - config.safetyMarginMs
    this.#update({ expiresAt, renewals: this.#state.renewals + 1, lastError: null })
  }

  /** The loop's renewal did not extend this lease: it expired, changed hands, or its row is gone (owner null). */
  renewRefused(o: RenewRefusal, token: number): void {
    const owner = o.owner || null
    this.#update({ holder: owner, expiresAt: owner ? o.expiresAt : null, takeovers: o.takeovers })
    void this.#lose(owner === this.#loop.config.owner && o.fencingToken === token ? 'expired' : 'taken')
  }

  renewFailed(err: unknown): void {
    this.#update({ renewFailures: this.#state.renewFailures + 1, lastError: message(err) })
  }

  /** The loop saw the local deadline pass without a successful renewal. */
  deadlinePassed(): void {
    if (this.#phase === 'held') void this.#lose('deadline')
  }

  #acquired(o: LeaseOutcome, deadlineAt: number): void {
    this.#generation++
    this.#phase = 'held'
    this.#deadlineAt = deadlineAt
    this.#update({
      role: 'holder', holder: o.owner, fencingToken: o.fencingToken, expiresAt: o.expiresAt,
      takeovers: o.takeovers, acquisitions: this.#state.acquisitions + 1, lastError: null, deferredTo: null,
    })
    this.#loop.logger?.debug({ clientId: this.clientId, fencingToken: o.fencingToken, takeovers: o.takeovers }, 'session lease acquired')
    this.#loop.place(this)
    void this.#call('onAcquired', () => this.#options.onAcquired?.({ fencingToken: o.fencingToken, expiresAt: o.expiresAt }))
  }

  async #lose(reason: LostReason): Promise<void> {
    const fencingToken = this.#state.fencingToken as number
    this.#generation++
    const generation = this.#generation
    this.#phase = 'losing'
    this.#deadlineAt = Infinity
    this.#loop.place(this)
    this.#update({ role: 'standby', losses: this.#state.losses + 1 })
    this.#loop.logger?.warn({ clientId: this.clientId, fencingToken, reason }, 'session lease lost: stop the socket')
    // Back to standby only once the caller has finished reacting (its socket is closed), so
    // onAcquired never overlaps a running onLost.
    await this.#call('onLost', () => this.#options.onLost({ fencingToken, reason }))
    if (generation === this.#generation) this.#toStandby(0)
  }

  #toStandby(waitMs: number): void {
    this.#phase = 'standby'
    this.#nextPollAt = this.#loop.clock.now() + waitMs
    this.#loop.place(this)
  }

  #update(patch: Partial<LeaseState>): void {
    this.#state = { ...this.#state, ...patch }
    try {
      this.#options.onStateChange?.(this.#state)
    } catch (err) {
      this.#loop.logger?.error({ err }, 'lease onStateChange threw')
    }
  }

  async #call(name: string, fn: () => void | Promise<void> | undefined): Promise<void> {
    try {
      await fn()
    } catch (err) {
      this.#loop.logger?.error({ err, clientId: this.clientId }, `lease ${name} callback threw`)
    }
  }
}

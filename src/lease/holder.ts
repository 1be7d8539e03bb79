// A LeaseHolder keeps one client id's lease for as long as it runs: standby (polling) until it
// acquires, then a heartbeat. Safety rule: the holder declares the lease lost (onLost) at a LOCAL
// deadline = monotonic time the last successful acquire/renew was SENT + ttl - safetyMargin. The
// database set expires_at = its now() + ttl, and its now() is later than our send time, so the
// deadline always falls at least safetyMargin before the real expiry, whatever the network does.
import type { Logger } from 'pino'
import type { ResolvedLeaseOptions } from './manager.js'
import type { LeaseOutcome } from './statements.js'
import type { HoldOptions, LeaseClock, LeaseState, LostReason } from './types.js'

export interface LeaseHolderDeps {
  clientId: string
  config: ResolvedLeaseOptions
  clock: LeaseClock
  logger?: Logger
  attempt(clientId: string): Promise<LeaseOutcome>
  extend(clientId: string, fencingToken: number): Promise<LeaseOutcome>
  release(clientId: string, fencingToken?: number): Promise<boolean>
  holdOptions: HoldOptions
}

/** Shortest wait between two standby polls, so a lease about to expire is not hammered. */
const MIN_POLL_MS = 20

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

export class LeaseHolder {
  readonly #d: LeaseHolderDeps
  #state: LeaseState
  /** The loop's one pending step (a poll in standby, a renewal while holding). */
  #stepTimer: unknown = null
  #deadlineTimer: unknown = null
  /** Local monotonic time at which we must consider the lease lost. */
  #deadlineAt = 0
  /** Bumped on every acquisition, loss and stop: late results of older steps are ignored. */
  #generation = 0
  readonly #inflight = new Set<Promise<unknown>>()
  #started = false
  #stopping: Promise<boolean> | null = null
  readonly #onAbort = () => { void this.stop({ release: false }) }

  constructor(deps: LeaseHolderDeps) {
    this.#d = deps
    this.#state = {
      clientId: deps.clientId,
      owner: deps.config.owner,
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
    }
  }

  /** A copy of the current state (session-info, metrics). */
  get state(): LeaseState {
    return { ...this.#state }
  }

  /** The token to pass to store.open(clientId, { fencingToken }) while role is 'holder'. */
  get fencingToken(): number | null {
    return this.#state.role === 'holder' ? this.#state.fencingToken : null
  }

  /** Begins in standby and tries to acquire at once. Idempotent; a stopped holder cannot restart. */
  start(): void {
    if (this.#started) return
    this.#started = true
    const { signal } = this.#d.holdOptions
    if (signal?.aborted) { void this.stop({ release: false }); return }
    signal?.addEventListener('abort', this.#onAbort, { once: true })
    this.#schedule(0, () => this.#poll())
  }

  /**
   * Stops polling and renewing, awaits the in-flight statement (bounded by statementTimeoutMs) and,
   * with release (the default), expires our lease so the next instance takes over at once. Call it
   * only after the socket is closed and the keys are flushed. Resolves to whether a lease was released.
   */
  stop(options: { release?: boolean } = {}): Promise<boolean> {
    this.#stopping ??= this.#stop(options.release ?? true)
    return this.#stopping
  }

  async #stop(release: boolean): Promise<boolean> {
    const wasHolder = this.#state.role === 'holder'
    this.#generation++
    this.#clearTimers()
    this.#d.holdOptions.signal?.removeEventListener('abort', this.#onAbort)
    this.#update({ role: 'stopped' })
    await Promise.allSettled([...this.#inflight])
    let released = false
    // Without a token: a poll that was in flight may have acquired the lease after we stopped.
    if (release && this.#started) {
      try {
        released = await this.#d.release(this.#d.clientId)
      } catch (err) {
        this.#d.logger?.warn({ err, clientId: this.#d.clientId }, 'session lease release failed; it expires by itself')
      }
    }
    this.#d.logger?.info({ clientId: this.#d.clientId, wasHolder, released }, 'session lease holder stopped')
    return released
  }

  #schedule(ms: number, step: () => Promise<void>): void {
    if (this.#stepTimer !== null) this.#d.clock.clearTimeout(this.#stepTimer)
    this.#stepTimer = this.#d.clock.setTimeout(() => {
      this.#stepTimer = null
      void step()
    }, Math.max(0, ms))
  }

  #clearTimers(): void {
    if (this.#stepTimer !== null) this.#d.clock.clearTimeout(this.#stepTimer)
    if (this.#deadlineTimer !== null) this.#d.clock.clearTimeout(this.#deadlineTimer)
    this.#stepTimer = this.#deadlineTimer = null
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#inflight.add(p)
    const done = () => { this.#inflight.delete(p) }
    p.then(done, done)
    return p
  }

  #update(patch: Partial<LeaseState>): void {
    this.#state = { ...this.#state, ...patch }
    try {
      this.#d.holdOptions.onStateChange?.({ ...this.#state })
    } catch (err) {
      this.#d.logger?.error({ err }, 'lease onStateChange threw')
    }
  }

  async #poll(): Promise<void> {
    const generation = this.#generation
    const { config, clock, clientId } = this.#d
    const sentAt = clock.now()
    let o: LeaseOutcome
    try {
      o = await this.#track(this.#d.attempt(clientId))
    } catch (err) {
      if (generation !== this.#generation) return
      this.#d.logger?.warn({ err, clientId }, 'session lease attempt failed; staying in standby')
      this.#update({ lastError: message(err) })
      this.#schedule(config.pollEveryMs, () => this.#poll())
      return
    }
    if (generation !== this.#generation) return
    const deadlineAt = sentAt + config.ttlMs - config.safetyMarginMs
    if (o.ok && clock.now() < deadlineAt) {
      this.#acquired(o, deadlineAt)
      return
    }
    // Not ours (or ours but the answer came too late to be safe: the next attempt extends it).
    const next = o.ok ? 0 : Math.min(config.pollEveryMs, Math.max(MIN_POLL_MS, o.remainingMs + MIN_POLL_MS))
    this.#update({
      holder: o.owner, fencingToken: o.fencingToken, expiresAt: o.expiresAt, takeovers: o.takeovers, lastError: null,
    })
    this.#schedule(next, () => this.#poll())
  }

  #acquired(o: LeaseOutcome, deadlineAt: number): void {
    this.#generation++
    this.#update({
      role: 'holder', holder: o.owner, fencingToken: o.fencingToken, expiresAt: o.expiresAt,
      takeovers: o.takeovers, acquisitions: this.#state.acquisitions + 1, lastError: null,
    })
    this.#d.logger?.info(
      { clientId: this.#d.clientId, fencingToken: o.fencingToken, takeovers: o.takeovers }, 'session lease acquired',
    )
    this.#armDeadline(deadlineAt)
    this.#schedule(this.#d.config.renewEveryMs, () => this.#renew())
    void this.#call('onAcquired', () => this.#d.holdOptions.onAcquired?.({ fencingToken: o.fencingToken, expiresAt: o.expiresAt }))
  }

  #armDeadline(at: number): void {
    const { clock } = this.#d
    this.#deadlineAt = at
    if (this.#deadlineTimer !== null) clock.clearTimeout(this.#deadlineTimer)
    this.#deadlineTimer = clock.setTimeout(() => {
      this.#deadlineTimer = null
      void this.#lose('deadline')
    }, at - clock.now())
  }

  async #renew(): Promise<void> {
    const generation = this.#generation
    const { config, clock, clientId } = this.#d
    const token = this.#state.fencingToken as number
    const sentAt = clock.now()
    let o: LeaseOutcome
    try {
      o = await this.#track(this.#d.extend(clientId, token))
    } catch (err) {
      if (generation !== this.#generation) return
      this.#d.logger?.warn({ err, clientId, fencingToken: token }, 'session lease renewal failed; retrying until the deadline')
      this.#update({ renewFailures: this.#state.renewFailures + 1, lastError: message(err) })
      // Retry soon; the deadline timer fires onLost if no renewal gets through in time.
      const left = this.#deadlineAt - clock.now()
      this.#schedule(Math.min(config.renewEveryMs, Math.max(MIN_POLL_MS, left / 3)), () => this.#renew())
      return
    }
    if (generation !== this.#generation) return
    if (!o.ok) {
      this.#update({ holder: o.owner || null, expiresAt: o.owner ? o.expiresAt : null, takeovers: o.takeovers })
      await this.#lose(o.owner === config.owner && o.fencingToken === token ? 'expired' : 'taken')
      return
    }
    this.#armDeadline(sentAt + config.ttlMs - config.safetyMarginMs)
    this.#update({ expiresAt: o.expiresAt, takeovers: o.takeovers, renewals: this.#state.renewals + 1, lastError: null })
    this.#schedule(config.renewEveryMs, () => this.#renew())
  }

  async #lose(reason: LostReason): Promise<void> {
    const fencingToken = this.#state.fencingToken as number
    this.#generation++
    const generation = this.#generation
    this.#clearTimers()
    this.#update({ role: 'standby', losses: this.#state.losses + 1 })
    this.#d.logger?.warn({ clientId: this.#d.clientId, fencingToken, reason }, 'session lease lost: stop the socket')
    // Back to standby only once the caller has finished reacting (its socket is closed), so
    // onAcquired never overlaps a running onLost.
    await this.#call('onLost', () => this.#d.holdOptions.onLost({ fencingToken, reason }))
    if (generation === this.#generation) this.#schedule(0, () => this.#poll())
  }

  async #call(name: string, fn: () => void | Promise<void> | undefined): Promise<void> {
    try {
      await fn()
    } catch (err) {
      this.#d.logger?.error({ err, clientId: this.#d.clientId }, `lease ${name} callback threw`)
    }
  }
}

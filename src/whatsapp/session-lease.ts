// The glue between a Session and its lease (Postgres mode): the session may hold a socket only while
// the lease is held, opens its store under the fencing token, and reacts to acquisitions and losses
// one at a time (the holder does not await onAcquired before a later onLost).
import type { Logger } from 'pino'
import type { LeaseState, LostReason } from '../lease/types.js'
import { SessionError } from './errors.js'
import type { SessionLease, SessionLeaseHandlers, SessionLeaseStatus } from './session-types.js'

export interface LeaseReactions {
  acquired(fencingToken: number): Promise<void>
  lost(fencingToken: number, reason: LostReason): Promise<void>
  /** Any lease state change (a standby learning who holds the lease, for instance). */
  changed(state: LeaseState): void
}

export class SessionLeaseLink {
  readonly #lease: SessionLease
  readonly #log: Logger
  /** The fencing token the store is opened under while we hold the lease; null in standby. */
  #fencingToken: number | null = null
  /** Lease callbacks run one after the other. */
  #queue: Promise<void> = Promise.resolve()

  constructor(factory: (handlers: SessionLeaseHandlers) => SessionLease, reactions: LeaseReactions, log: Logger) {
    this.#log = log
    this.#lease = factory({
      onAcquired: ({ fencingToken }) => this.#step(() => {
        this.#fencingToken = fencingToken
        return reactions.acquired(fencingToken)
      }),
      onLost: ({ fencingToken, reason }) => {
        // At once, not behind a queued step: from now on the session must not connect or report open.
        this.#fencingToken = null
        return this.#step(() => reactions.lost(fencingToken, reason))
      },
      onStateChange: (state) => reactions.changed(state),
    })
  }

  start(): void {
    this.#lease.start()
  }

  /** Whether the session may connect: only while holding the lease. */
  get held(): boolean {
    return this.#fencingToken !== null
  }

  get fencingToken(): number | null {
    return this.#fencingToken
  }

  /** Waits for the lease steps queued so far (stop() does, before it flushes the store). */
  settled(): Promise<void> {
    return this.#queue
  }

  stop(release: boolean): Promise<boolean> {
    this.#fencingToken = null
    return this.#lease.stop({ release })
  }

  get state(): LeaseState {
    return this.#lease.state
  }

  status(): SessionLeaseStatus {
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

  /** Another instance holds the lease (known from the last attempt): the session runs there. */
  get heldElsewhere(): boolean {
    const s = this.#lease.state
    return s.role === 'standby' && s.holder !== null && s.holder !== s.owner
  }

  /** In standby because placement gives the session to another instance (it tries no lease here). */
  get deferred(): boolean {
    const s = this.#lease.state
    return s.role === 'standby' && Boolean(s.deferredTo)
  }

  /** In standby because the last attempt failed (the database did not answer): it keeps trying. */
  get attemptFailed(): boolean {
    const s = this.#lease.state
    return s.role === 'standby' && s.lastError !== null
  }

  standbyError(): SessionError {
    const lease = this.status()
    return new SessionError(
      'LEASE_HELD_ELSEWHERE',
      lease.holder && lease.holder !== lease.owner
        ? `Instance ${lease.holder} holds this session until ${lease.expiresAt ?? 'its lease expires'}; use that instance, or stop it and this one takes over.`
        : 'This instance is waiting for the session lease (another instance holds it or the database is unreachable).',
      { lease },
    )
  }

  #step(step: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(step).catch((err: unknown) => this.#log.error({ err }, 'session lease step failed'))
    this.#queue = run
    return run
  }
}

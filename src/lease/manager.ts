// createLeaseManager: the lease operations for one process (one owner id) on one database. Every
// lease lives in the database; every long-lived holder is a LeaseHolder returned by hold(), owned and
// stopped by its caller, and driven by one batch loop (loop.ts) shared by all of them.
import { systemClock } from '../lib/clock.js'
import { withTimeout } from '../lib/timeout.js'
import type { LeaseHolder } from './holder.js'
import { createLeaseLoop } from './loop.js'
import { resolveLeaseOptions } from './options.js'
import {
  acquireStatement, deleteLeaseStatement, parseOutcome, readLease, releaseAllStatement, releaseStatement, renewStatement,
  type LeaseOutcome,
} from './statements.js'
import type { AcquireResult, HoldOptions, LeaseManagerOptions, LeaseRow } from './types.js'

function toResult(o: LeaseOutcome): AcquireResult {
  return o.ok
    ? { held: true, owner: o.owner, fencingToken: o.fencingToken, expiresAt: o.expiresAt, takeovers: o.takeovers }
    : { held: false, holder: o.owner, fencingToken: o.fencingToken, expiresAt: o.expiresAt, takeovers: o.takeovers }
}

export function createLeaseManager(options: LeaseManagerOptions) {
  const config = resolveLeaseOptions(options)
  const { sql, logger } = options
  const clock = options.clock ?? systemClock
  const { owner, ttlMs, statementTimeoutMs } = config
  const statement = <T>(work: PromiseLike<T>) => withTimeout(work, statementTimeoutMs, 'a lease statement', clock)
  const loop = createLeaseLoop({ sql, config, clock, ...(logger ? { logger } : {}) })

  return {
    owner,
    config,

    /** One statement: insert, take over an expired lease (token + 1), or extend our own live lease. */
    async tryAcquire(clientId: string): Promise<AcquireResult> {
      // No row only when a concurrent first insert committed after the statement's snapshot; the
      // next attempt sees that row.
      for (let i = 0; i < 3; i++) {
        const o = parseOutcome(await statement(acquireStatement(sql, clientId, owner, ttlMs)))
        if (o) return toResult(o)
      }
      throw new Error('lease acquire returned no row three times')
    },

    /** Extend a live lease held under exactly this token; { held: false, holder } once it is gone. */
    async renew(clientId: string, fencingToken: number): Promise<AcquireResult> {
      const o = parseOutcome(await statement(renewStatement(sql, clientId, owner, fencingToken, ttlMs)))
      // No row at all: the lease row was deleted by hand; we certainly do not hold it.
      return toResult(o ?? { ok: false, owner: '', fencingToken: 0, expiresAt: new Date(0), takeovers: 0, remainingMs: 0 })
    },

    /**
     * Expire our live lease now (one statement) so the next instance takes over at its next poll.
     * Only ours (and only this token, when given). Returns whether a live lease of ours was released.
     */
    async release(clientId: string, fencingToken?: number): Promise<boolean> {
      const released = (await statement(releaseStatement(sql, clientId, owner, fencingToken))).length > 0
      if (released) logger?.info({ clientId, owner }, 'session lease released')
      return released
    },

    /**
     * Expire every live lease this process holds, in one statement (shutdown, once every session has
     * closed its socket and flushed its keys). Returns the client ids released.
     */
    async releaseAll(): Promise<string[]> {
      const ids = (await statement(releaseAllStatement(sql, owner))).map((r) => r.client_id)
      logger?.info({ owner, released: ids.length }, 'session leases released')
      return ids
    },

    /** Delete a deleted session's lease row unless another instance holds it live. Returns whether a row went. */
    async forget(clientId: string): Promise<boolean> {
      return (await statement(deleteLeaseStatement(sql, clientId, owner))).length > 0
    },

    /** The current row (whoever holds it), for session-info; null if the lease was never taken. */
    read(clientId: string): Promise<LeaseRow | null> {
      return statement(readLease(sql, clientId))
    },

    /**
     * A long-lived holder: call start(), and stop() on shutdown (after closing the socket).
     * Throws if this manager already has a holder for the client id that is not stopped.
     */
    hold(clientId: string, holdOptions: HoldOptions): LeaseHolder {
      return loop.hold(clientId, holdOptions)
    },

    /** Holders that are not stopped (stopped ones are dropped at once). */
    holders: loop.size,

    /** Resolves once no batch statement is in flight. */
    idle: loop.idle,

    /** Placement changed (preferredElsewhere answers differently): standbys are asked again now. */
    wake: loop.wake,
  }
}

export type LeaseManager = ReturnType<typeof createLeaseManager>

// createLeaseManager: the lease operations for one process (one owner id) on one database.
// Stateless apart from its options: every lease lives in the database, every long-lived holder is
// a LeaseHolder object returned by hold(), owned and stopped by its caller.
import { LeaseHolder } from './holder.js'
import { acquireStatement, parseOutcome, readLease, releaseStatement, renewStatement, type LeaseOutcome } from './statements.js'
import { systemClock } from '../lib/clock.js'
import { withTimeout } from '../lib/timeout.js'
import type { AcquireResult, HoldOptions, LeaseManagerOptions, LeaseRow } from './types.js'

export interface ResolvedLeaseOptions {
  owner: string
  ttlMs: number
  renewEveryMs: number
  pollEveryMs: number
  safetyMarginMs: number
  statementTimeoutMs: number
}

export function resolveLeaseOptions(options: LeaseManagerOptions): ResolvedLeaseOptions {
  const ttlMs = options.ttlMs ?? 10_000
  const resolved = {
    owner: options.owner,
    ttlMs,
    renewEveryMs: options.renewEveryMs ?? Math.round(ttlMs / 3),
    pollEveryMs: options.pollEveryMs ?? Math.round(ttlMs / 5),
    safetyMarginMs: options.safetyMarginMs ?? Math.round(ttlMs / 5),
    statementTimeoutMs: options.statementTimeoutMs ?? Math.round(ttlMs / 3),
  }
  if (!options.owner || options.owner.length > 200) throw new RangeError('lease owner must be 1..200 characters')
  if (!Number.isInteger(ttlMs) || ttlMs < 100) throw new RangeError('lease ttlMs must be an integer >= 100')
  // A renewal must be able to start, time out and be retried before the local deadline.
  if (resolved.renewEveryMs + resolved.safetyMarginMs >= ttlMs) {
    throw new RangeError('lease renewEveryMs + safetyMarginMs must be below ttlMs')
  }
  if (resolved.pollEveryMs <= 0 || resolved.statementTimeoutMs <= 0 || resolved.safetyMarginMs <= 0) {
    throw new RangeError('lease pollEveryMs, statementTimeoutMs and safetyMarginMs must be positive')
  }
  return resolved
}

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

  /** The raw outcome, with the database's remaining time (the holder schedules its polls on it). */
  async function attempt(clientId: string): Promise<LeaseOutcome> {
    // The statement returns nothing only when a concurrent first insert committed after its snapshot;
    // the next attempt sees that row.
    for (let i = 0; i < 3; i++) {
      const rows = await withTimeout(acquireStatement(sql, clientId, owner, ttlMs), statementTimeoutMs, 'a lease statement', clock)
      const o = parseOutcome(rows)
      if (o) return o
    }
    throw new Error('lease acquire returned no row three times')
  }

  async function extend(clientId: string, fencingToken: number): Promise<LeaseOutcome> {
    const rows = await withTimeout(renewStatement(sql, clientId, owner, fencingToken, ttlMs), statementTimeoutMs, 'a lease statement', clock)
    const o = parseOutcome(rows)
    // No row at all: the lease row was deleted by hand; we certainly do not hold it.
    return o ?? { ok: false, owner: '', fencingToken: 0, expiresAt: new Date(0), takeovers: 0, remainingMs: 0 }
  }

  /**
   * Expire our live lease now (one statement) so the next instance takes over at its next poll.
   * Only ours (and only this token, when given). Returns whether a live lease of ours was released.
   */
  async function release(clientId: string, fencingToken?: number): Promise<boolean> {
    const rows = await withTimeout(releaseStatement(sql, clientId, owner, fencingToken), statementTimeoutMs, 'a lease statement', clock)
    const released = rows.length > 0
    if (released) logger?.info({ clientId, owner }, 'session lease released')
    return released
  }

  // One live holder per client id per manager: two would share the owner id and both "hold" it.
  const holders = new Map<string, LeaseHolder>()

  return {
    owner,
    config,

    /** One statement: insert, take over an expired lease (token + 1), or extend our own live lease. */
    async tryAcquire(clientId: string): Promise<AcquireResult> {
      return toResult(await attempt(clientId))
    },

    /** Extend a live lease held under exactly this token; { held: false, holder } once it is gone. */
    async renew(clientId: string, fencingToken: number): Promise<AcquireResult> {
      return toResult(await extend(clientId, fencingToken))
    },

    release,

    /** The current row (whoever holds it), for session-info; null if the lease was never taken. */
    read(clientId: string): Promise<LeaseRow | null> {
      return withTimeout(readLease(sql, clientId), statementTimeoutMs, 'a lease statement', clock)
    },

    /**
     * A long-lived holder: call start(), and stop() on shutdown (after closing the socket).
     * Throws if this manager already has a holder for the client id that is not stopped.
     */
    hold(clientId: string, holdOptions: HoldOptions): LeaseHolder {
      const existing = holders.get(clientId)
      if (existing && existing.state.role !== 'stopped') {
        throw new Error(`a lease holder for ${clientId} is already running in this process; stop it first`)
      }
      const holder = new LeaseHolder({ clientId, config, clock, logger, attempt, extend, release, holdOptions })
      holders.set(clientId, holder)
      return holder
    },
  }
}

export type LeaseManager = ReturnType<typeof createLeaseManager>

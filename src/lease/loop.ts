// The batch loop behind every LeaseHolder of one manager: whatever the number of sessions, one
// acquire statement for the standbys that are due, one renew statement per heartbeat for every lease
// held, and one timer for the earliest local deadline. Idle sessions therefore cost the database one
// statement every renewEveryMs, not one per session. At most one acquire and one renew statement are
// in flight at a time; holders that become due meanwhile go in the next batch.
import type { Logger } from 'pino'
import type { Clock } from '../lib/clock.js'
import { withTimeout } from '../lib/timeout.js'
import { LeaseHolder, MIN_POLL_MS, type HolderLoop } from './holder.js'
import type { ResolvedLeaseOptions } from './options.js'
import { acquireManyStatement, parseOutcomes, readManyStatement, releaseStatement, renewManyStatement, type LeaseOutcome, type RenewMany } from './statements.js'
import type { HoldOptions, LeaseSql } from './types.js'

export interface LeaseLoopDeps {
  sql: LeaseSql
  config: ResolvedLeaseOptions
  clock: Clock
  logger?: Logger
}

export function createLeaseLoop({ sql, config, clock, logger }: LeaseLoopDeps) {
  const { owner, ttlMs, statementTimeoutMs } = config
  /** Every holder that is not stopped, by client id (stopped ones are dropped at once). */
  const holders = new Map<string, LeaseHolder>()
  const standby = new Set<LeaseHolder>()
  const held = new Set<LeaseHolder>()
  let renewTimer: unknown = null
  let acquiring: Promise<void> | null = null
  let renewing: Promise<void> | null = null

  const statement = <T>(work: PromiseLike<T>) => withTimeout(work, statementTimeoutMs, 'a lease statement', clock)

  function clear(timer: unknown): null {
    if (timer !== null) clock.clearTimeout(timer)
    return null
  }

  /** One timer that fires `tick` at a time; re-armed only when that time changes. */
  function alarm(tick: () => void) {
    let timer: unknown = null
    let at = Infinity
    return {
      /** Fires at the earliest of `times` (never when there is none). */
      armAt(times: Iterable<number>): void {
        const next = Math.min(Infinity, ...times)
        if (next === at && timer !== null) return
        this.disarm()
        at = next
        if (next !== Infinity) timer = clock.setTimeout(() => { timer = null; at = Infinity; tick() }, Math.max(0, Math.ceil(next - clock.now())))
      },
      disarm(): void {
        timer = clear(timer)
        at = Infinity
      },
    }
  }
  const pollAlarm = alarm(pollTick)
  const deadlineAlarm = alarm(deadlineTick)

  function schedulePoll(): void {
    if (acquiring) return
    pollAlarm.armAt([...standby].map((h) => h.nextPollAt))
  }

  function scheduleRenew(ms = config.renewEveryMs): void {
    if (held.size === 0) {
      renewTimer = clear(renewTimer)
      return
    }
    if (renewTimer === null && !renewing) renewTimer = clock.setTimeout(renewTick, ms)
  }

  function scheduleDeadline(): void {
    deadlineAlarm.armAt([...held].map((h) => h.deadlineAt))
  }

  function pollTick(): void {
    if (acquiring) return
    const sentAt = clock.now()
    const batch: { h: LeaseHolder; generation: number }[] = []
    const reads: { h: LeaseHolder; generation: number }[] = []
    for (const h of standby) {
      if (h.nextPollAt > sentAt) continue
      // Placement: a session another instance should hold is not tried here; its row is read now and
      // then (one statement for all of them) so this standby can say who holds it.
      const elsewhere = config.preferredElsewhere?.(h.clientId) ?? null
      if (elsewhere === null) batch.push({ h, generation: h.generation })
      else if (h.deferred(elsewhere)) reads.push({ h, generation: h.generation })
    }
    if (batch.length === 0 && reads.length === 0) return schedulePoll()
    acquiring = (async () => {
      if (reads.length > 0) await readRows(reads)
      if (batch.length === 0) return
      let outcomes: Map<string, LeaseOutcome>
      try {
        outcomes = parseOutcomes(await statement(acquireManyStatement(sql, batch.map((b) => b.h.clientId), owner, ttlMs)))
      } catch (err) {
        logger?.warn({ err, leases: batch.length }, 'session lease attempt failed; staying in standby')
        for (const { h, generation } of batch) if (h.generation === generation && h.phase === 'standby') h.acquireFailed(err)
        return
      }
      for (const { h, generation } of batch) {
        if (h.generation === generation && h.phase === 'standby') h.acquireAnswered(outcomes.get(h.clientId), sentAt)
      }
    })().finally(() => {
      acquiring = null
      schedulePoll()
    })
  }

  async function readRows(reads: { h: LeaseHolder; generation: number }[]): Promise<void> {
    try {
      const rows = parseOutcomes(await statement(readManyStatement(sql, reads.map((r) => r.h.clientId))))
      for (const { h, generation } of reads) if (h.generation === generation) h.rowRead(rows.get(h.clientId))
    } catch (err) {
      logger?.debug({ err, leases: reads.length }, 'reading the leases of sessions placed elsewhere failed')
    }
  }

  function renewTick(): void {
    renewTimer = null
    if (renewing || held.size === 0) return
    const sentAt = clock.now()
    const batch = [...held].map((h) => ({ h, generation: h.generation, token: h.fencingToken as number }))
    let next = config.renewEveryMs
    renewing = (async () => {
      let answer: RenewMany
      try {
        const leases = batch.map((b) => ({ clientId: b.h.clientId, fencingToken: b.token }))
        answer = await statement(renewManyStatement(sql, leases, owner, ttlMs))
      } catch (err) {
        logger?.warn({ err, leases: batch.length }, 'session lease renewal failed; retrying until the deadline')
        for (const { h, generation } of batch) if (h.generation === generation) h.renewFailed(err)
        // Retry soon; the deadline timer fires onLost for every lease no renewal gets through for in time.
        let earliest = Infinity
        for (const h of held) earliest = Math.min(earliest, h.deadlineAt)
        next = Math.min(config.renewEveryMs, Math.max(MIN_POLL_MS, (earliest - clock.now()) / 3))
        return
      }
      for (const { h, generation, token } of batch) {
        if (h.generation !== generation || h.phase !== 'held') continue
        const failed = answer.failed.get(h.clientId)
        if (failed) h.renewRefused(failed, token)
        else h.renewed(answer.expiresAt, sentAt)
      }
    })().finally(() => {
      renewing = null
      scheduleRenew(next)
      scheduleDeadline()
    })
  }

  function deadlineTick(): void {
    const now = clock.now()
    for (const h of [...held]) if (h.deadlineAt <= now) h.deadlinePassed()
    scheduleDeadline()
  }

  const loop: HolderLoop = {
    config,
    clock,
    ...(logger ? { logger } : {}),
    place(h) {
      standby.delete(h)
      held.delete(h)
      if (h.phase === 'standby') standby.add(h)
      else if (h.phase === 'held') held.add(h)
      else if (h.phase === 'stopped' && holders.get(h.clientId) === h) holders.delete(h.clientId)
      schedulePoll()
      scheduleRenew()
      scheduleDeadline()
    },
    async idle() {
      await Promise.allSettled([acquiring, renewing].filter((p): p is Promise<void> => p !== null))
    },
    async release(clientId) {
      const rows = await statement(releaseStatement(sql, clientId, owner))
      if (rows.length > 0) logger?.debug({ clientId, owner }, 'session lease released')
      return rows.length > 0
    },
  }

  return {
    /** A holder for the client id; throws if one that is not stopped exists already. */
    hold(clientId: string, options: HoldOptions): LeaseHolder {
      if (holders.has(clientId)) {
        throw new Error(`a lease holder for ${clientId} is already running in this process; stop it first`)
      }
      const holder = new LeaseHolder(clientId, loop, options)
      holders.set(clientId, holder)
      return holder
    },
    /** Holders not stopped (standby, held or losing). */
    size: () => holders.size,
    /** Placement changed: every standby is asked again at once (no statement for those placed elsewhere). */
    wake(): void {
      for (const h of standby) h.pollNow()
      pollAlarm.disarm()
      schedulePoll()
    },
    idle: loop.idle,
  }
}

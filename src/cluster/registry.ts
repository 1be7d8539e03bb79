// The instance registry: every server process (Postgres mode, lease on) keeps one row in
// whatsapp_instances, refreshed by ONE statement per heartbeat that also answers which instances are
// live. Live = heartbeat within freshMs on the database clock, so machines' clocks never matter. A
// clean shutdown deletes the row at once; a killed process's row goes stale and stops counting after
// freshMs. Every operation is one short statement: it works through Supabase's transaction pooler.
import type { Logger } from 'pino'
import type { Sql } from 'postgres'
import { systemClock, type Clock } from '../lib/clock.js'
import { withTimeout } from '../lib/timeout.js'
import type { ClusterDirectory, InstanceInfo } from './types.js'

/** A live instance with how long it has been registered (database clock), for the settle time. */
export interface LiveInstance extends InstanceInfo {
  ageMs: number
  /** How old its last heartbeat was when this list was read (database clock). */
  heartbeatAgeMs: number
}

export interface InstanceRegistryOptions {
  sql: Sql
  /** This process: id = its lease owner id. */
  self: { id: string; url: string | null; flyMachineId: string | null }
  /** Heartbeat period. */
  heartbeatMs: number
  /** An instance whose last heartbeat is older than this (database clock) is not live. */
  freshMs: number
  /** A statement slower than this counts as failed. Default heartbeatMs. */
  statementTimeoutMs?: number
  clock?: Clock
  logger?: Logger
}

/** Rows of instances dead this long are deleted by the heartbeat (a killed process leaves its row). */
const FORGET_DEAD_AFTER_MS = 3_600_000

interface InstanceRow {
  id: string
  url: string | null
  fly_machine_id: string | null
  started_at: Date
  heartbeat_at: Date
  age_ms: number
  heartbeat_age_ms: number
}

function toInstance(row: InstanceRow): LiveInstance {
  return {
    id: row.id,
    url: row.url,
    flyMachineId: row.fly_machine_id,
    startedAt: row.started_at,
    heartbeatAt: row.heartbeat_at,
    ageMs: Math.max(0, row.age_ms),
    heartbeatAgeMs: Math.max(0, row.heartbeat_age_ms),
  }
}

export function createInstanceRegistry(options: InstanceRegistryOptions) {
  const { sql, heartbeatMs, freshMs, logger } = options
  const clock = options.clock ?? systemClock
  const timeoutMs = options.statementTimeoutMs ?? heartbeatMs
  const statement = <T>(work: PromiseLike<T>) => withTimeout(work, timeoutMs, 'an instance registry statement', clock)
  const self: InstanceInfo = { ...options.self, startedAt: new Date(0), heartbeatAt: new Date(0) }
  let snapshot: LiveInstance[] | null = null
  let snapshotAt = -Infinity
  let registered = false

  function remember(rows: readonly InstanceRow[]): LiveInstance[] {
    const live = rows.map(toInstance).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    const mine = live.find((i) => i.id === self.id)
    if (mine) {
      self.startedAt = mine.startedAt
      self.heartbeatAt = mine.heartbeatAt
    }
    snapshot = live
    snapshotAt = clock.now()
    return live
  }

  /**
   * The heartbeat: registers this instance (or refreshes it), forgets long-dead rows, and returns
   * every live instance (this one included), ordered by id. One statement.
   */
  async function beat(): Promise<LiveInstance[]> {
    const { id, url, flyMachineId } = options.self
    const rows = await statement(sql<InstanceRow[]>`
      WITH mine AS (
        INSERT INTO whatsapp_instances AS i (id, url, fly_machine_id, started_at, heartbeat_at)
        VALUES (${id}, ${url}, ${flyMachineId}, now(), now())
        ON CONFLICT (id) DO UPDATE SET url = excluded.url, fly_machine_id = excluded.fly_machine_id, heartbeat_at = now()
        RETURNING i.id, i.url, i.fly_machine_id, i.started_at, i.heartbeat_at
      ), forgotten AS (
        DELETE FROM whatsapp_instances
         WHERE heartbeat_at < now() - ${FORGET_DEAD_AFTER_MS}::int * interval '1 millisecond' AND id <> ${id}
      )
      SELECT id, url, fly_machine_id, started_at, heartbeat_at,
             (extract(epoch FROM now() - started_at) * 1000)::float8 AS age_ms,
             (extract(epoch FROM now() - heartbeat_at) * 1000)::float8 AS heartbeat_age_ms
        FROM mine
      UNION ALL
      SELECT id, url, fly_machine_id, started_at, heartbeat_at,
             (extract(epoch FROM now() - started_at) * 1000)::float8,
             (extract(epoch FROM now() - heartbeat_at) * 1000)::float8
        FROM whatsapp_instances
       WHERE id <> ${id} AND heartbeat_at > now() - ${freshMs}::int * interval '1 millisecond'`)
    registered = true
    return remember(rows)
  }

  /** Live instances without heartbeating (a read). */
  async function read(): Promise<LiveInstance[]> {
    const rows = await statement(sql<InstanceRow[]>`
      SELECT id, url, fly_machine_id, started_at, heartbeat_at,
             (extract(epoch FROM now() - started_at) * 1000)::float8 AS age_ms,
             (extract(epoch FROM now() - heartbeat_at) * 1000)::float8 AS heartbeat_age_ms
        FROM whatsapp_instances
       WHERE heartbeat_at > now() - ${freshMs}::int * interval '1 millisecond'`)
    return remember(rows)
  }

  const directory: ClusterDirectory = {
    self,
    /** The last heartbeat's answer while it is younger than one heartbeat, else a fresh read. */
    async live() {
      if (snapshot && clock.now() - snapshotAt < heartbeatMs) return snapshot
      return read()
    },
    async holderOf(clientId) {
      const rows = await statement(sql<InstanceRow[]>`
        SELECT i.id, i.url, i.fly_machine_id, i.started_at, i.heartbeat_at,
               (extract(epoch FROM now() - i.started_at) * 1000)::float8 AS age_ms,
               (extract(epoch FROM now() - i.heartbeat_at) * 1000)::float8 AS heartbeat_age_ms
          FROM whatsapp_session_leases l JOIN whatsapp_instances i ON i.id = l.owner
         WHERE l.client_id = ${clientId} AND l.expires_at > now()`)
      return rows[0] ? toInstance(rows[0]) : null
    },
  }

  return {
    ...directory,
    self,
    beat,
    /** The last heartbeat's (or read's) live instances, null before the first one answered. */
    snapshot: (): LiveInstance[] | null => snapshot,
    /**
     * Deletes this instance's row (clean shutdown, before the sessions hand over): the others stop
     * counting it at their next heartbeat, so they take its sessions as soon as it releases them.
     */
    async deregister(): Promise<void> {
      if (!registered) return
      registered = false
      snapshot = null
      await statement(sql`DELETE FROM whatsapp_instances WHERE id = ${self.id}`)
      logger?.info({ instance: self.id }, 'instance deregistered')
    },
  }
}

export type InstanceRegistry = ReturnType<typeof createInstanceRegistry>

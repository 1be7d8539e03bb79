// A local spool in front of the Postgres outbox, so that storing an incoming message's event (which
// must happen before its receipt) does not depend on the database: a nacked message does not come
// back usable (Baileys already used its Signal keys), so an outage at that moment would lose it.
//
// append() gives every event its id and tries Postgres, bounded in time. When the database fails or
// does not answer in time, the events go to SESSION_PATH/.events-spool/<clientId>.jsonl (fsynced,
// append-only) and append() resolves without them. While a session has spooled events, its later
// appends go to the spool too, behind them, so seq order stays arrival order. The drainer moves
// spooled events into Postgres in order (at start-up, after a spooling append, then with backoff
// until it succeeds) and removes the file once it is empty; they get their seq then and reach the
// subscribers like any other. Their ids travel with them and Postgres keeps them, keyed by dedupe key
// or by id, so a drain repeated after a crash (or a timed-out statement that committed after all)
// stores nothing twice. Order holds even with such late statements: per session one statement is
// sent at a time, and while a spool exists every statement sent is a prefix of it (the append that
// timed out is its head, each drain starts at its head), so whichever commits first, the rest only
// add what follows. A refusal by the database itself (a constraint, a missing table) is not an
// outage: that append fails as before, since spooling it would only postpone the refusal.
import { stat, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { ensureDir, fsyncDir, isNotFound, removeFiles } from '../../keystore/file/fsio.js'
import { backoffDelay, type BackoffOptions } from '../../lib/backoff.js'
import { assertClientId } from '../../lib/client-id.js'
import type { Clock } from '../../lib/clock.js'
import { createGroupCommit, type GroupCommit } from '../../lib/group-commit.js'
import { readdirIfExists } from '../../lib/small-files.js'
import { withTimeout } from '../../lib/timeout.js'
import { newEventId } from '../ids.js'
import type { EventOutbox, NewEvent, StoredEvent } from '../types.js'
import { appendLines, openLines } from './jsonl.js'

export interface SpooledOutboxOptions {
  /** The Postgres outbox. */
  outbox: EventOutbox
  /** SESSION_PATH/.events-spool */
  dir: string
  /** Longest wait for the database before an append goes to the spool. */
  timeoutMs: number
  clock: Clock
  log: Pick<Logger, 'info' | 'warn' | 'error'>
  /** Drain retries after a failure. */
  backoff?: BackoffOptions
  /** Events per drain statement. */
  chunk?: number
}

type Spooled = NewEvent & { id: string }
interface Spool { handle: FileHandle; pending: Spooled[] }
interface Batch { events: Spooled[]; out: StoredEvent[] }
interface Session {
  clientId: string
  path: string
  commits: GroupCommit<Batch>
  /** undefined: not read from disk yet (or to be read again after a failed write); null: no spool. */
  spool?: Spool | null
}

const SUFFIX = '.jsonl'

/**
 * The database answered that these events or this statement can never be stored (SQLSTATE class 22
 * data exception, 23 constraint, 42 schema or syntax): retrying cannot help. Anything else (no answer,
 * a broken connection, a timeout, a server shutting down) counts as an outage.
 */
function refused(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^(22|23|42)[0-9A-Z]{3}$/.test(code)
}

export function createSpooledOutbox(o: SpooledOutboxOptions) {
  const pg = o.outbox
  const backoff = o.backoff ?? { baseMs: 1_000, maxMs: 30_000 }
  const chunk = o.chunk ?? 500
  const sessions = new Map<string, Session>()
  const bounded = <T>(work: Promise<T>, what: string) => withTimeout(work, o.timeoutMs, `event outbox: ${what}`, o.clock)
  let stopped = false
  let started = false
  let draining: Promise<void> | null = null
  let again = false
  let timer: unknown = null
  let failures = 0

  function sessionOf(clientId: string): Session {
    let s = sessions.get(clientId)
    if (!s) {
      assertClientId(clientId)
      const session: Session = { clientId, path: join(o.dir, `${clientId}${SUFFIX}`), commits: createGroupCommit<Batch>((batches) => commit(session, batches)) }
      sessions.set(clientId, (s = session))
    }
    return s
  }

  /** The session's spool as on disk; only inside the session's commits or exclusive sections. */
  async function spoolOf(s: Session): Promise<Spool | null> {
    if (s.spool !== undefined) return s.spool
    if (!(await stat(s.path).then(() => true, (err: unknown) => (isNotFound(err) ? false : Promise.reject(err))))) return (s.spool = null)
    const { handle, lines } = await openLines<Spooled>(s.path)
    if (lines.length > 0) return (s.spool = { handle, pending: lines })
    // Created, but a crash came before the first line was durable: nothing to drain.
    await handle.close()
    await removeFiles([s.path])
    return (s.spool = null)
  }

  async function commit(s: Session, batches: Batch[]): Promise<void> {
    const events = batches.flatMap((b) => b.events)
    if (!(await spoolOf(s))) {
      try {
        const stored = new Map((await bounded(pg.append(s.clientId, events), 'append')).map((e) => [e.id, e]))
        for (const b of batches) b.out = b.events.flatMap((e) => stored.get(e.id) ?? [])
        return
      } catch (err) {
        if (refused(err)) throw err
        o.log.warn({ err, clientId: s.clientId, events: events.length }, 'the database does not take events: they are kept on local disk until it does')
      }
    }
    await toSpool(s, events)
    wake()
  }

  async function toSpool(s: Session, events: Spooled[]): Promise<void> {
    let spool = await spoolOf(s)
    if (!spool) {
      await ensureDir(o.dir)
      const { handle } = await openLines<Spooled>(s.path)
      await fsyncDir(o.dir)
      spool = s.spool = { handle, pending: [] }
    }
    try {
      await appendLines(spool.handle, events)
    } catch (err) {
      // What reached the file is not known: read it again before the next use.
      s.spool = undefined
      void spool.handle.close().catch(() => undefined)
      throw err
    }
    spool.pending.push(...events)
  }

  /** Moves one session's spool into Postgres, a chunk at a time; throws when the database fails. */
  async function drainSession(s: Session): Promise<void> {
    for (;;) {
      const next = await s.commits.exclusive(async () => (await spoolOf(s))?.pending.slice(0, chunk) ?? [])
      if (next.length === 0) return
      // Not exclusive: appends meanwhile go to the spool, behind these.
      await bounded(pg.append(s.clientId, next), 'drain')
      const done = new Set(next.map((e) => e.id))
      await s.commits.exclusive(async () => {
        const spool = await spoolOf(s)
        if (!spool) return
        spool.pending = spool.pending.filter((e) => !done.has(e.id))
        if (spool.pending.length > 0) return
        s.spool = null
        await spool.handle.close()
        await removeFiles([s.path])
      })
    }
  }

  async function drainAll(): Promise<void> {
    do {
      again = false
      for (const s of [...sessions.values()]) {
        if (stopped) return
        if (s.spool === null) continue
        try {
          await drainSession(s)
        } catch (err) {
          failures++
          const fields = { err, clientId: s.clientId, pending: s.spool?.pending.length ?? null }
          const why = 'spooled events could not be moved to the database yet; they stay on local disk'
          if (refused(err)) o.log.error(fields, why)
          else o.log.warn(fields, why)
          schedule(backoffDelay(failures - 1, backoff))
          return
        }
      }
    } while (again && !stopped)
    if (failures > 0) o.log.info('spooled events are in the database again')
    failures = 0
  }

  function schedule(ms: number): void {
    if (stopped || timer !== null) return
    timer = o.clock.setTimeout(() => {
      timer = null
      wake()
    }, ms)
  }

  /** Runs the drainer now unless it runs already (then once more after) or waits for its backoff. */
  function wake(): void {
    if (stopped || !started || timer !== null) return
    if (draining) {
      again = true
      return
    }
    draining = drainAll().finally(() => {
      draining = null
    })
  }

  const outbox: EventOutbox = {
    async append(clientId, events) {
      if (events.length === 0) return []
      const batch: Batch = { events: events.map((e) => ({ ...e, id: e.id ?? newEventId() })), out: [] }
      await sessionOf(clientId).commits.submit(batch)
      return batch.out
    },
    after: (clientId, afterSeq, limit) => pg.after(clientId, afterSeq, limit),
    lastSeq: (clientId) => pg.lastSeq(clientId),
    lastSeqs: pg.lastSeqs && ((clientIds) => pg.lastSeqs!(clientIds)),
    subscribe: (listener) => pg.subscribe(listener),
    purge: (olderThan) => pg.purge(olderThan),
    async close() {
      stopped = true
      if (timer !== null) o.clock.clearTimeout(timer)
      timer = null
      await draining
      for (const s of sessions.values()) {
        await s.commits.idle()
        await s.spool?.handle.close().catch(() => undefined)
      }
      sessions.clear()
      await pg.close()
    },
  }

  return {
    ...outbox,
    /** Starts the drainer: the spool files left by an earlier run are drained first. */
    async start(): Promise<void> {
      started = true
      for (const name of await readdirIfExists(o.dir)) {
        if (!name.endsWith(SUFFIX)) continue
        try {
          sessionOf(name.slice(0, -SUFFIX.length))
        } catch (err) {
          o.log.warn({ err, name }, 'a file in the event spool folder is not a session\'s spool; left alone')
        }
      }
      wake()
    },
    /** Events on local disk not yet in Postgres (of the sessions read so far). */
    spooled: (): number => [...sessions.values()].reduce((n, s) => n + (s.spool?.pending.length ?? 0), 0),
  }
}

export type SpooledOutbox = ReturnType<typeof createSpooledOutbox>

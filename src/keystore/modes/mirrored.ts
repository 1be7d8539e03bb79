// Postgres mode: the database is the source of truth, the session folder its mirror. In this file, in
// order: reconcile (opening a session brings the two copies level; reconcile.ts decides how), the write
// path (each write is one statement, acknowledged when the database committed it; the mirror gets the
// same encoded batch without being waited for, and carries the writes alone, fsynced, while the
// database is unreachable) and the probe (which writes the local state back once the database answers).
import { initAuthCreds } from '@whiskeysockets/baileys'
import type { Logger } from 'pino'
import { exponentialDelay } from '../../lib/backoff.js'
import { systemClock, type Clock } from '../../lib/clock.js'
import { isStoreDataError } from '../../lib/store-errors.js'
import { withTimeout } from '../../lib/timeout.js'
import type { Codec } from '../codec.js'
import { encodeState } from '../encoded.js'
import { isRefusal, SessionUnavailableError, StaleFencingTokenError } from '../errors.js'
import type { FileState, SessionFile, SessionFolder } from '../file/index.js'
import type { DatabaseSession, SessionDatabase } from '../postgres/index.js'
import { freshState, type SessionState } from '../state.js'
import { decodeFileState } from './file.js'
import { createWriteQueue, DEFAULT_PROBE, type Mode, type Opened, type ProbePolicy, type Sink } from './mode.js'
import { createCatalog } from './mirrored-catalog.js'
import { mirrorMarker, planOpen } from './reconcile.js'

export interface MirroredModeOptions {
  database: SessionDatabase
  folder: SessionFolder
  codec: Codec
  logger?: Logger
  probe?: Partial<ProbePolicy>
  clock?: Clock
  /** Releases what the mode was given (the pool, when the store opened it). */
  onClose?: () => Promise<void>
}

interface Link {
  degraded: boolean
  /** The database has this session's row: writes update it, never create it. */
  inDatabase: boolean
  /** What the mirror file records (`databaseId/incarnation`), and the row's incarnation when known. */
  marker: string | null
  incarnation: string | null
}

export function createMirroredMode(o: MirroredModeOptions): Mode {
  const { database, folder, codec, logger: log } = o
  const probe: ProbePolicy = { ...DEFAULT_PROBE, ...o.probe }
  const clock = o.clock ?? systemClock
  const open = new Map<string, SessionFile>()
  let databaseId = ''
  const timed = <T>(work: Promise<T>, what: string) => withTimeout(work, probe.timeoutMs, what, clock)
  const identity = async () => (databaseId ||= await timed(database.identity(), 'reading the database id'))
  const catalog = createCatalog({ database, folder, codec, logger: log, timed, identity, current: (id) => open.get(id)?.current() ?? null })

  // --- reconcile ---------------------------------------------------------------------------------

  /** Each copy read once; `db` is undefined when the database cannot be reached. */
  async function readBoth(clientId: string, pg: DatabaseSession, file: SessionFile) {
    const fromDb = Promise.all([timed(pg.load(), 'loading the session'), identity()]).then(
      ([copy]) => copy,
      (err: unknown) => {
        if (isStoreDataError(err)) throw err
        log?.warn({ clientId, err }, 'database unreachable while opening a session')
        return undefined
      },
    )
    const [db, local] = await Promise.all([fromDb, file.read()])
    return { db, local }
  }

  async function openSession(clientId: string, fencingToken: number | undefined, file: SessionFile): Promise<Opened> {
    const pg = database.session(clientId, fencingToken)
    const { db, local } = await readBoth(clientId, pg, file)
    const link: Link = { degraded: db === undefined, inDatabase: false, marker: local?.database ?? null, incarnation: db?.session?.incarnation ?? null }
    if (db === undefined) {
      const state = decodeFileState(local, codec, log)?.state
      if (!state) throw new SessionUnavailableError(clientId)
      log?.warn({ clientId, version: state.version }, 'session opened from the local mirror; database catch-up pending')
      return start(clientId, state, state.version, fencingToken, pg, file, link)
    }
    const plan = planOpen(codec, db, local, databaseId)
    const loaded = plan.state?.version ?? plan.floor
    if (fencingToken !== undefined && fencingToken < loaded.epoch) throw new StaleFencingTokenError(clientId, fencingToken)
    if (plan.repaired) log?.warn({ clientId, err: plan.repaired }, plan.message ?? 'a damaged copy was repaired')
    else if (plan.message) log?.info({ clientId, version: loaded }, plan.message)
    if (plan.removeMirror) {
      await file.remove()
      link.marker = null
    }
    link.inDatabase = plan.inDatabase
    if (plan.writeDatabase && plan.chosen) {
      try {
        link.incarnation = await timed(pg.replace(plan.chosen, plan.writeDatabase), 'writing the session to the database')
      } catch (err) {
        if (isStoreDataError(err) || isRefusal(err) || !plan.state) throw err
        log?.warn({ clientId, err }, 'could not bring the database level at open: running degraded')
        Object.assign(link, { degraded: true, inDatabase: false })
      }
    }
    const wanted = link.incarnation && !link.degraded ? mirrorMarker(databaseId, link.incarnation) : link.marker
    if (plan.writeMirror && plan.chosen) await mirrorReplace(file, { ...plan.chosen, database: wanted })
    else if (plan.state && wanted !== link.marker) await file.mark(wanted).catch((err: unknown) => log?.warn({ clientId, err }, 'could not mark the local mirror'))
    link.marker = wanted
    return start(clientId, plan.state, loaded, fencingToken, pg, file, link)
  }

  function start(clientId: string, loaded: SessionState | null, version: SessionState['version'], fencingToken: number | undefined, pg: DatabaseSession, file: SessionFile, link: Link): Opened {
    const state = loaded ?? freshState(clientId, version, initAuthCreds(), new Date().toISOString())
    state.version = { epoch: fencingToken ?? version.epoch, seq: version.seq }
    file.prepare().catch((err: unknown) => log?.warn({ clientId, err }, 'could not ready the local mirror for writes'))
    open.set(clientId, file)
    return { state, sink: mirroredSink(state, pg, file, link) }
  }

  /** The mirror is a copy: a failure to write it is logged, never fatal (the next write repairs it). */
  const mirrorReplace = (file: SessionFile, next: FileState): Promise<boolean> =>
    file.replace(next).then(
      () => true,
      (err: unknown) => {
        log?.warn({ clientId: next.clientId, err }, 'could not write the local mirror; the database keeps the session')
        return false
      },
    )

  // --- write path --------------------------------------------------------------------------------

  function mirroredSink(state: SessionState, pg: DatabaseSession, file: SessionFile, link: Link): Sink {
    const { clientId } = state
    let reachable = !link.degraded
    let mirrorBehind = false
    let refused: Error | null = null
    let closed = false
    let attempt = 0
    let timer: unknown = null
    let catchingUp: Promise<void> | null = null
    // The mirror's follow-up of the last acknowledged write (its marker, or a rewrite): close waits for it.
    let following: Promise<void> = Promise.resolve()
    const current = (): FileState => ({ ...encodeState(codec, state), database: link.marker })

    function refuse(err: Error): Error {
      refused = err
      stopProbe()
      log?.error({ clientId, code: (err as { code?: string }).code }, 'database refused this session handle; writes stop')
      return err
    }

    /** After the database took a write: the mirror records this life of the row, and is rewritten if it fell behind. */
    function followDatabase(mirror: Promise<void>): void {
      const wanted = link.incarnation ? mirrorMarker(databaseId, link.incarnation) : link.marker
      following = mirror.then(
        async () => {
          if (closed) return
          const behind = mirrorBehind
          mirrorBehind = false
          link.marker = wanted
          if (behind) mirrorBehind = !(await mirrorReplace(file, current()))
          else await file.mark(wanted).catch(() => (mirrorBehind = true))
        },
        (err: unknown) => {
          if (!mirrorBehind) log?.warn({ clientId, err }, 'mirror write failed; the database has it, the mirror is rewritten later')
          mirrorBehind = true
        },
      )
    }

    const queue = createWriteQueue({
      state,
      codec,
      async commit(batch) {
        if (refused) throw refused
        if (link.degraded) {
          await file.append(batch, { sync: true })
          return { landed: 'file', databaseFailed: false }
        }
        // The statement goes out first, then the mirror's append (into the page cache, no fsync) runs while
        // the database works: postgres.js sends a short statement from a setImmediate (it batches writes),
        // so the append waits for the check phase after that one. The COMMIT is the acknowledgement, and
        // the mirror has the batch by then (appended at the latest right before the acknowledgement).
        const db = timed(pg.write(batch, { create: !link.inDatabase }), 'a database write')
        let mirror: Promise<void> | null = null
        const toMirror = () => {
          mirror ??= file.append(batch, { sync: false })
          mirror.catch(() => {})
          return mirror
        }
        setImmediate(() => setImmediate(toMirror))
        try {
          link.incarnation = (await db) ?? link.incarnation
        } catch (err) {
          if (isRefusal(err)) throw refuse(err)
          if (!link.degraded) log?.warn({ clientId, err }, 'database unreachable: writes go to the local mirror (fsynced) until it returns')
          Object.assign(link, { degraded: true })
          reachable = false
          attempt = 0
          scheduleProbe()
          if (!(await toMirror().then(() => true, () => false)) || mirrorBehind) {
            await file.replace(current()) // the mirror missed a batch the database had: write it whole
            mirrorBehind = false
          } else {
            await file.sync()
          }
          return { landed: 'file', databaseFailed: true }
        }
        link.inDatabase = true
        reachable = true
        followDatabase(toMirror())
        return { landed: 'postgres', databaseFailed: false }
      },
      unchanged: () => ({ landed: link.degraded ? 'file' : 'postgres', databaseFailed: false }),
    })

    // --- probe -------------------------------------------------------------------------------------

    function stopProbe(): void {
      if (timer !== null) clock.clearTimeout(timer)
      timer = null
    }

    function scheduleProbe(): void {
      if (closed || refused || timer !== null) return
      timer = clock.setTimeout(() => {
        timer = null
        void catchUp().catch(() => {})
      }, exponentialDelay(attempt++, probe))
      ;(timer as { unref?: () => void }).unref?.()
    }

    /** Writes the whole local state back to the database, with no write in flight. */
    function catchUp(): Promise<void> {
      catchingUp ??= queue
        .exclusive(async () => {
          if (!link.degraded || closed || refused) return
          // A mirror of a row this database had may only update it: a missing row was deleted meanwhile.
          const create = !link.inDatabase && !link.marker?.startsWith(`${await identity()}/`)
          link.incarnation = await timed(pg.replace(encodeState(codec, state), { create }), 'the database catch-up')
          Object.assign(link, { degraded: false, inDatabase: true })
          reachable = true
          log?.info({ clientId, version: state.version }, 'database back: local state written back, degraded cleared')
          followDatabase(Promise.resolve())
        })
        .catch((err: unknown) => {
          if (isRefusal(err)) return void refuse(err)
          log?.debug({ clientId, err }, 'database still unreachable')
          scheduleProbe()
          throw err
        })
        .finally(() => (catchingUp = null))
      return catchingUp
    }

    if (link.degraded) scheduleProbe()

    return {
      write: (dirty) => queue.submit(dirty),
      async remove() {
        await queue.idle()
        await catalog.deleteFromDatabase(clientId)
        stopProbe()
        link.degraded = false
        return file.remove()
      },
      health: () => ({ degraded: link.degraded, databaseReachable: reachable, pendingCatchUp: link.degraded }),
      async close(options = {}) {
        await queue.idle()
        await following
        stopProbe()
        if (link.degraded && !refused && !options.discard) await catchUp().catch(() => {})
        closed = true
        stopProbe()
        if (open.get(clientId) === file) open.delete(clientId)
        await file.close({ compact: !options.discard })
      },
    }
  }

  // --- the rest of the Mode ----------------------------------------------------------------------

  return {
    mode: 'postgres',
    async open(clientId, { fencingToken }) {
      const file = folder.session(clientId)
      return openSession(clientId, fencingToken, file).catch(async (err: unknown) => {
        await file.close({ compact: false }).catch(() => {})
        throw err
      })
    },
    async verify(clientId) {
      const file = folder.session(clientId)
      try {
        const { db, local } = await readBoth(clientId, database.session(clientId), file)
        if (db === undefined) decodeFileState(local, codec, log)
        else planOpen(codec, db, local, databaseId)
      } finally {
        await file.close({ compact: false })
      }
    },
    preflight: catalog.preflight,
    list: catalog.list,
    delete: catalog.delete,
    ping: () => withTimeout(database.ping(), Math.min(probe.timeoutMs, 3000), 'the database ping', clock).catch(() => false),
    async close() {
      await Promise.all([...open.values()].map((f) => f.close({ compact: true })))
      open.clear()
      await o.onClose?.()
    },
  }
}

// Postgres mode's write path for one session: each batch goes to the database (the source of truth) and
// to the file mirror at once. If the database cannot take it, the batch is made durable in the mirror
// (fsync) before the write is acknowledged, the session runs degraded, and a probe writes the newer local
// state back (one replace) as soon as the database answers again.
import { open } from 'node:fs/promises'
import type { Logger } from 'pino'
import { exponentialDelay } from '../lib/backoff.js'
import { withTimeout } from '../lib/timeout.js'
import type { SessionVersion, WriteBatch } from './backend.js'
import { StaleFencingTokenError, VersionConflictError } from './errors.js'
import type { FileBackend } from './file/index.js'
import { encodeBatch, type EncodedBatch } from './file/format.js'
import type { LiveSession } from './handle.js'
import type { PostgresBackend } from './postgres/index.js'
import { compareVersions } from './memory.js'
import type { SessionSink, SinkHealth } from './sink.js'
import { createGroupWriter } from './writer.js'

export interface ProbePolicy {
  /** First retry after this long (default 1000 ms), doubling up to maxMs. */
  baseMs: number
  maxMs: number
  /** A database call slower than this counts as an outage (default 10 s). */
  timeoutMs: number
}

export const DEFAULT_PROBE: ProbePolicy = { baseMs: 1000, maxMs: 15_000, timeoutMs: 10_000 }

/** fsyncs the mirror's files: the file backend runs without fsync while the database holds the truth. */
async function syncFiles(paths: { snapshot: string; journal: string }): Promise<void> {
  for (const path of [paths.journal, paths.snapshot]) {
    let fh
    try {
      fh = await open(path, 'r')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue
      throw err
    }
    try {
      await fh.datasync()
    } finally {
      await fh.close()
    }
  }
}

export interface MirroredSinkOptions {
  clientId: string
  pg: PostgresBackend
  file: FileBackend
  live: LiveSession
  fencingToken?: number
  /** The database was unreachable at open: start degraded, with the local state to write back. */
  startDegraded: boolean
  probe: ProbePolicy
  /**
   * 'database' (default): a write is acknowledged when the database committed it (the mirror follows
   * without fsync, and is fsynced only when it must carry a write alone).
   * 'local': acknowledged when the mirror has fsynced it; the database receives it right after, in
   * order, group-committed. Faster with a distant database, but a crash of this machine loses what was
   * not shipped yet for any other machine, and a stale-lease rejection can come after the ack.
   */
  acknowledge?: 'database' | 'local'
  logger?: Logger
}

export function createMirroredSink(o: MirroredSinkOptions): SessionSink {
  const { clientId, pg, file, logger: log } = o
  const opts = o.fencingToken === undefined ? {} : { fencingToken: o.fencingToken }
  let degraded = o.startDegraded
  let reachable = !o.startDegraded
  let pendingCatchUp = o.startDegraded
  let mirrorBehind = false
  // Set once the database refused this handle for good (stale lease, newer state): every write fails.
  let refused: Error | null = null
  let attempt = 0
  let timer: NodeJS.Timeout | null = null
  let catchingUp: Promise<void> | null = null
  let closed = false
  // wipe(): nothing may be written back afterwards (a catch-up would resurrect the session).
  let removed = false
  // 'local' acknowledgement: batches shipped to the database after the ack, in order, group-committed.
  let shipped: SessionVersion = { epoch: -1, seq: -1 }
  const shipper = createGroupWriter(async (batch) => {
    if (degraded || refused || removed || compareVersions(batch.version, shipped) <= 0) return
    try {
      await withTimeout(pg.apply(clientId, batch, opts), o.probe.timeoutMs, 'a database write')
      shipped = batch.version
      reachable = true
    } catch (err) {
      if (err instanceof StaleFencingTokenError || err instanceof VersionConflictError) {
        try {
          refuse(err)
        } catch {}
        return
      }
      enterDegraded(err)
    }
  })

  function refuse(err: Error): never {
    refused = err
    stopProbe()
    log?.error({ clientId, code: (err as { code?: string }).code }, 'database refused this session handle; writes stop')
    throw err
  }

  function stopProbe(): void {
    if (timer) clearTimeout(timer)
    timer = null
  }

  function scheduleProbe(): void {
    if (closed || refused || timer) return
    const delay = exponentialDelay(attempt++, o.probe)
    timer = setTimeout(() => {
      timer = null
      void catchUp().catch(() => {})
    }, delay)
    timer.unref()
  }

  function enterDegraded(err: unknown): void {
    if (!degraded) log?.warn({ clientId, err: String(err) }, 'database unreachable: writes go to the local mirror (fsynced) until it returns')
    degraded = true
    reachable = false
    pendingCatchUp = true
    attempt = 0
    scheduleProbe()
  }

  /** Writes the whole live state back to the database, with no write in flight. */
  function catchUp(): Promise<void> {
    catchingUp ??= o.live
      .exclusive(async () => {
        if (!degraded || closed || refused || removed) return
        await shipper.idle()
        const snapshot = o.live.snapshot()
        await withTimeout(pg.replace(clientId, snapshot, opts), o.probe.timeoutMs, 'the database catch-up')
        shipped = snapshot.version
        degraded = false
        reachable = true
        pendingCatchUp = false
        log?.info({ clientId, version: snapshot.version }, 'database back: local state written back, degraded cleared')
      })
      .catch((err: unknown) => {
        if (err instanceof StaleFencingTokenError || err instanceof VersionConflictError) {
          try {
            refuse(err)
          } catch {}
          return
        }
        log?.debug({ clientId, err: String(err) }, 'database still unreachable')
        scheduleProbe()
        throw err
      })
      .finally(() => {
        catchingUp = null
      })
    return catchingUp
  }

  if (o.startDegraded) scheduleProbe()

  /**
   * The batch encoded once for the database and the mirror when both use one codec (the store's), else
   * null (each backend encodes). Also null when encoding throws: the two backends then fail as they
   * would on their own, and the caller handles that as before.
   */
  function encodeOnce(batch: WriteBatch): EncodedBatch | null {
    if (pg.codec !== file.codec) return null
    try {
      return encodeBatch(pg.codec, batch as Parameters<typeof encodeBatch>[1])
    } catch {
      return null
    }
  }

  async function persistDegraded(batch: WriteBatch): Promise<void> {
    await file.apply(clientId, batch)
    await syncFiles(file.sessionFiles(clientId))
  }

  return {
    async persist(batch) {
      if (refused) throw refused
      if (degraded) return persistDegraded(batch)
      if (o.acknowledge === 'local') {
        await file.apply(clientId, batch) // the mirror runs with fsync in this mode
        if (!degraded) void shipper.submit(batch)
        return
      }
      // Both writes start now. The database's COMMIT is the acknowledgement; the mirror (queued in order,
      // no fsync) is awaited only when it has to carry the write alone. The batch is encoded once for
      // both, and the statement is issued first: the mirror's work runs while the database works.
      const encoded = encodeOnce(batch)
      const db = withTimeout(encoded ? pg.applyEncoded(clientId, encoded, opts) : pg.apply(clientId, batch, opts), o.probe.timeoutMs, 'a database write')
      const mirror = encoded ? file.applyEncoded(clientId, encoded) : file.apply(clientId, batch)
      mirror.catch(() => {})
      try {
        await db
      } catch (err) {
        if (err instanceof StaleFencingTokenError || err instanceof VersionConflictError) refuse(err)
        enterDegraded(err)
        const mirrored = await mirror.then(
          () => true,
          () => false,
        )
        if (!mirrored || mirrorBehind) {
          // The mirror missed a batch the database had: write it whole (a snapshot, always fsynced).
          await file.replace(clientId, o.live.snapshot())
          mirrorBehind = false
          return
        }
        await syncFiles(file.sessionFiles(clientId))
        return
      }
      reachable = true
      mirror.then(
        () => {
          if (!mirrorBehind) return
          mirrorBehind = false
          file.replace(clientId, o.live.snapshot()).catch(() => (mirrorBehind = true))
        },
        (err: unknown) => {
          if (!mirrorBehind) log?.warn({ clientId, err: String(err) }, 'mirror write failed; the database has it, the mirror is rewritten later')
          mirrorBehind = true
        },
      )
    },
    async remove() {
      removed = true
      degraded = false
      pendingCatchUp = false
      stopProbe()
      await shipper.idle()
      const [db, local] = await Promise.allSettled([pg.remove(clientId), file.remove(clientId)])
      if (db.status === 'rejected') throw db.reason
      if (local.status === 'rejected') throw local.reason
      return db.value || local.value
    },
    health(): SinkHealth {
      return { degraded, databaseReachable: reachable, pendingCatchUp }
    },
    /** Exposed for tests and close(): one catch-up attempt now. */
    async close() {
      await shipper.idle()
      stopProbe()
      if (degraded && !refused) await catchUp().catch(() => {})
      closed = true
      stopProbe()
      await file.closeSession(clientId)
    },
  }
}

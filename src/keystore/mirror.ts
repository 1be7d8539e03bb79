// Postgres mode: the database is the source of truth, the file its mirror. Opening a session reconciles
// the two (automatic migration both ways, newer version wins); writes go through sync.ts.
import type { Logger } from 'pino'
import { createSql, type Sql, type SqlOptions } from '../db/connection.js'
import { assertSchemaCurrent, SchemaNotCurrentError } from '../db/schema.js'
import type { SessionSnapshot } from './backend.js'
import type { Codec } from './codec.js'
import type { ModeDriver, OpenedSession } from './driver.js'
import { SessionUnavailableError, StaleFencingTokenError } from './errors.js'
import type { FileBackend } from './file/index.js'
import { compareVersions } from './memory.js'
import { createPostgresBackend, type PostgresBackend } from './postgres/index.js'
import { createMirroredSink, DEFAULT_PROBE, type ProbePolicy } from './sync.js'
import { isStoreDataError } from '../lib/store-errors.js'
import { withTimeout } from '../lib/timeout.js'
import type { StoredSession } from './types.js'

export interface PostgresDriverOptions {
  databaseUrl: string
  /** Borrowed pool (never ended here); absent: the driver opens its own from databaseUrl. */
  sql?: Sql
  codec: Codec
  file: FileBackend
  logger?: Logger
  probe?: Partial<ProbePolicy>
  pool?: Pick<SqlOptions, 'max' | 'debug' | 'connectTimeout'>
  acknowledge?: 'database' | 'local'
}

/** Brings the database and the mirror level; returns the state the session starts from. */
async function reconcile(
  clientId: string,
  pg: PostgresBackend,
  file: FileBackend,
  db: SessionSnapshot | null,
  local: SessionSnapshot | null,
  fencingToken: number | undefined,
  log: Logger | undefined,
): Promise<SessionSnapshot | null> {
  const opts = fencingToken === undefined ? {} : { fencingToken }
  const toMirror = async (snap: SessionSnapshot, why: string) => {
    try {
      await file.replace(clientId, snap)
      log?.info({ clientId, version: snap.version }, why)
    } catch (err) {
      log?.warn({ clientId, err: String(err) }, 'could not write the local mirror; the database keeps the session')
    }
  }
  if (db && !local) {
    await toMirror(db, 'session copied from the database to the local mirror')
    return db
  }
  if (local && !db) {
    await pg.replace(clientId, local, opts)
    log?.info({ clientId, version: local.version }, 'session copied up from the local file to the database')
    return local
  }
  if (db && local) {
    const cmp = compareVersions(db.version, local.version)
    if (cmp > 0) await toMirror(db, 'database newer than the mirror: mirror brought level')
    if (cmp < 0) {
      await pg.replace(clientId, local, opts)
      log?.info({ clientId, from: db.version, to: local.version }, 'mirror newer than the database: database brought level')
    }
    return cmp >= 0 ? db : local
  }
  return null
}

export async function createPostgresDriver(o: PostgresDriverOptions): Promise<ModeDriver> {
  const log = o.logger
  const probe: ProbePolicy = { ...DEFAULT_PROBE, ...o.probe }
  const ownPool = o.sql === undefined
  const sql: Sql = o.sql ?? createSql(o.databaseUrl, { logger: log, ...o.pool })
  const endPool = async () => {
    if (ownPool) await sql.end({ timeout: 5 })
  }
  const pg = createPostgresBackend({ sql, codec: o.codec, logger: log })
  const { file } = o

  try {
    await withTimeout(assertSchemaCurrent(sql), probe.timeoutMs, 'the schema check')
  } catch (err) {
    if (err instanceof SchemaNotCurrentError) {
      await endPool()
      throw err
    }
    log?.warn({ err: String(err) }, 'database unreachable at start-up: sessions open from the local mirror, degraded')
  }

  async function loadDb(clientId: string): Promise<SessionSnapshot | null | undefined> {
    try {
      return await withTimeout(pg.load(clientId), probe.timeoutMs, 'loading the session')
    } catch (err) {
      if (isStoreDataError(err)) throw err
      log?.warn({ clientId, err: String(err) }, 'database unreachable while opening a session')
      return undefined
    }
  }

  return {
    mode: 'postgres',
    async open(clientId, fencingToken): Promise<OpenedSession> {
      const [db, local] = await Promise.all([loadDb(clientId), file.load(clientId)])
      let initial: SessionSnapshot | null
      let startDegraded = false
      if (db === undefined) {
        if (!local) throw new SessionUnavailableError(clientId)
        initial = local
        startDegraded = true
        log?.warn({ clientId, version: local.version }, 'session opened from the local mirror; database catch-up pending')
      } else {
        try {
          initial = await reconcile(clientId, pg, file, db, local, fencingToken, log)
        } catch (err) {
          if (isStoreDataError(err) || err instanceof StaleFencingTokenError || !local) throw err
          initial = local
          startDegraded = true
          log?.warn({ clientId, err: String(err) }, 'could not bring the database level at open: running degraded')
        }
      }
      const loadedEpoch = initial?.version.epoch ?? 0
      if (fencingToken !== undefined && fencingToken < loadedEpoch) throw new StaleFencingTokenError(clientId, fencingToken)
      return {
        initial,
        epoch: fencingToken ?? loadedEpoch,
        makeSink: (live) =>
          createMirroredSink({
            clientId, pg, file, live, fencingToken, startDegraded, probe, logger: log, acknowledge: o.acknowledge,
          }),
      }
    },
    async verify(clientId) {
      // loadDb returns undefined when the database is unreachable: then only the mirror can be checked.
      await Promise.all([loadDb(clientId), file.load(clientId)])
    },
    async preflight() {
      let keyChecks: Array<string | null>
      try {
        keyChecks = await withTimeout(pg.keyChecks(), probe.timeoutMs, 'the encryption key check')
      } catch (err) {
        log?.warn({ err }, 'database unreachable at start-up: the encryption key is checked against the local mirror only')
        await file.checkKey()
        return
      }
      for (const stored of keyChecks) o.codec.verifyKeyCheck(stored)
    },
    async list(): Promise<StoredSession[]> {
      const local = await file.list()
      let remote: StoredSession[]
      try {
        remote = await withTimeout(pg.list(), probe.timeoutMs, 'listing sessions')
      } catch (err) {
        log?.warn({ err: String(err) }, 'database unreachable: listing the local mirror only')
        return local
      }
      const inDb = new Set(remote.map((s) => s.clientId))
      return [...remote, ...local.filter((s) => !inDb.has(s.clientId))]
    },
    async delete(clientId) {
      const [db, local] = await Promise.all([withTimeout(pg.remove(clientId), probe.timeoutMs, 'deleting the session'), file.remove(clientId)])
      return db || local
    },
    async ping() {
      return withTimeout(pg.ping(), Math.min(probe.timeoutMs, 3000), 'the database ping').catch(() => false)
    },
    async close() {
      await file.close()
      await endPool()
    },
  }
}

// Postgres mode's operations on stored sessions as a whole, beside the per-session work in
// mirrored.ts: listing (the database's sessions, plus mirror files that opening would copy up),
// deleting (the database first: while it cannot be reached nothing changes) and the key check.
import type { Logger } from 'pino'
import { isStoreDataError, StoreUnavailableError } from '../../lib/store-errors.js'
import type { Codec } from '../codec.js'
import type { FileState, SessionFolder } from '../file/index.js'
import type { SessionDatabase } from '../postgres/index.js'
import type { StoredSession } from '../types.js'
import { deletedFromDatabase } from './reconcile.js'

export interface CatalogOptions {
  database: SessionDatabase
  folder: SessionFolder
  codec: Codec
  logger?: Logger
  /** A database call bounded by the probe's timeout. */
  timed: <T>(work: Promise<T>, what: string) => Promise<T>
  /** This database's id (read once). */
  identity: () => Promise<string>
  /** Header fields of a session open here (from memory), else null. */
  current: (clientId: string) => FileState | null
}

export function createCatalog(o: CatalogOptions) {
  const { database, folder, log } = { ...o, log: o.logger }

  /** Deletes the session from the database, or throws StoreUnavailableError having changed nothing. */
  async function deleteFromDatabase(clientId: string): Promise<boolean> {
    try {
      return await o.timed(database.remove(clientId), 'deleting the session')
    } catch (err) {
      if (isStoreDataError(err)) throw err
      throw new StoreUnavailableError(
        `The database is unreachable, so session "${clientId}" was not deleted; nothing was changed. Retry when it answers.`,
        { cause: err },
      )
    }
  }

  return {
    deleteFromDatabase,

    async list(): Promise<StoredSession[]> {
      const local = await folder.list(o.current)
      const strip = ({ database: _d, version: _v, ...s }: (typeof local)[number]) => s
      try {
        const remote = await o.timed(database.list(), 'listing sessions')
        const inDb = new Set(remote.map((s) => s.clientId))
        const localOnly = local.filter((l) => !inDb.has(l.clientId))
        const tombstones = await o.timed(database.tombstones(localOnly.map((l) => l.clientId)), 'listing sessions')
        const databaseId = await o.identity()
        // A mirror file the database does not have is listed only if opening it would copy it up.
        return [...remote, ...localOnly.filter((l) => !deletedFromDatabase(l, tombstones.get(l.clientId), databaseId)).map(strip)]
      } catch (err) {
        log?.warn({ err }, 'database unreachable: listing the local mirror only')
        return local.map(strip)
      }
    },

    /** The database first, then the open handle (closed without writing), then the files. */
    async delete(clientId: string, discardOpen: () => Promise<void>): Promise<boolean> {
      const inDb = await deleteFromDatabase(clientId)
      await discardOpen()
      const file = folder.session(clientId)
      try {
        return (await file.remove()) || inDb
      } finally {
        await file.close({ compact: false })
      }
    },

    async preflight(): Promise<void> {
      let keyChecks: Array<string | null>
      try {
        keyChecks = await o.timed(database.keyChecks(), 'the encryption key check')
      } catch (err) {
        log?.warn({ err }, 'database unreachable at start-up: the encryption key is checked against the local mirror only')
        return folder.checkKey()
      }
      for (const stored of keyChecks) o.codec.verifyKeyCheck(stored)
    },
  }
}

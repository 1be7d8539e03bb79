// The Postgres backend: sessions in whatsapp_sessions / _creds / _keys (SQL in statements.ts). It hands
// out a store scoped to one session (load in one round trip, each write in one statement, a full
// replace in one transaction) and answers the questions about all of them (list, tombstones, key
// checks). Values arrive encoded by the shared codec, so a value moves between file and database unchanged.
import type { Sql } from '../../db/connection.js'
import type { KeyIdScheme } from '../codec.js'
import type { EncodedBatch, EncodedSession } from '../encoded.js'
import { SessionDeletedError, StaleFencingTokenError, VersionConflictError } from '../errors.js'
import { compareVersions, type SessionVersion } from '../state.js'
import type { StoredSession } from '../types.js'
import { scrubbed } from './errors.js'
import * as q from './statements.js'

export interface SessionDatabaseOptions {
  sql: Sql
  /** What new rows record: the codec's key check (null without encryption) and key-id scheme. */
  keyCheck: string | null
  keyIds: KeyIdScheme
}

/**
 * A stored session as the database holds it (with the id of this life of its row), plus its tombstone:
 * the version it was last deleted at.
 */
export interface DatabaseCopy {
  session: (EncodedSession & { keyCheck: string | null; incarnation: string }) | null
  tombstone: SessionVersion | null
}

const iso = (d: Date | string) => (d instanceof Date ? d : new Date(d)).toISOString()
const version = (epoch: string | null, seq: string | null): SessionVersion | null =>
  epoch === null || seq === null ? null : { epoch: Number(epoch), seq: Number(seq) }

function rowsOf(keys: Map<string, Map<string, string>>): q.Rows {
  const rows: q.Rows = { types: [], ids: [], values: [] }
  for (const [type, ids] of keys) {
    for (const [id, value] of ids) {
      rows.types.push(type)
      rows.ids.push(id)
      rows.values.push(value)
    }
  }
  return rows
}

export function createSessionDatabase({ sql, keyCheck, keyIds }: SessionDatabaseOptions) {
  /** The store of one session, writing under `fencingToken` when the caller holds the lease. */
  function session(clientId: string, fencingToken?: number) {
    const token = fencingToken ?? null
    // When this store last moved the session's updated_at (its row is wide: at most hourly).
    let touched = 0

    async function refusal(): Promise<Error> {
      const [r] = await scrubbed(() => q.writeRefusal(sql, clientId, token))
      if (!r.lease_ok) return new StaleFencingTokenError(clientId, token as number)
      return r.present ? new VersionConflictError(clientId) : new SessionDeletedError(clientId)
    }

    return {
      async load(): Promise<DatabaseCopy> {
        // Both queries go out at once: one round trip of latency.
        const [[row], keyRows] = await scrubbed(() => Promise.all([q.selectSession(sql, clientId), q.selectKeys(sql, clientId)]))
        const tombstone = version(row.tomb_epoch, row.tomb_seq)
        const stored = version(row.version_epoch, row.version_seq)
        if (!stored) return { session: null, tombstone }
        const keys = new Map<string, Map<string, string>>()
        for (const k of keyRows) {
          let ids = keys.get(k.type)
          if (!ids) keys.set(k.type, (ids = new Map()))
          ids.set(k.key_id, k.value)
        }
        const session = {
          clientId,
          status: row.status ?? 'inactive',
          jid: row.jid,
          version: stored,
          createdAt: iso(row.created_at as Date),
          updatedAt: iso(row.updated_at as Date),
          creds: row.creds,
          keys,
          keyIds: row.key_ids ?? 'clear',
          keyCheck: row.key_check,
          incarnation: row.incarnation as string,
        }
        return { session, tombstone }
      },

      /**
       * One write batch in one statement. `create`: the session may not exist yet (its first write, which
       * carries creds); otherwise a missing row means it was deleted meanwhile and nothing is written.
       * Returns the row's incarnation when the statement created (or could have created) it.
       */
      async write(batch: EncodedBatch, options: { create: boolean }): Promise<string | null> {
        const upserts: q.Rows = { types: [], ids: [], values: [] }
        const deletes: Omit<q.Rows, 'values'> = { types: [], ids: [] }
        for (const [type, id, value] of batch.keys ?? []) {
          if (value === null) {
            deletes.types.push(type)
            deletes.ids.push(id)
          } else {
            upserts.types.push(type)
            upserts.ids.push(id)
            upserts.values.push(value)
          }
        }
        const now = Date.now()
        const w: q.Write = { clientId, epoch: batch.version.epoch, seq: batch.version.seq, fencingToken: token, upserts, deletes, touch: now - touched > 3_600_000 }
        if (batch.creds !== undefined) w.creds = batch.creds
        if (batch.status !== undefined) w.status = batch.status
        if (batch.jid !== undefined) w.jid = batch.jid
        const creds = w.creds
        if (options.create && creds !== undefined) {
          const [r] = await scrubbed(async () => q.createStatement(sql, { ...w, creds, keyCheck, keyIds }))
          if (r.applied > 0) {
            touched = now
            return r.incarnation
          }
          // The row exists (an earlier attempt committed, or another instance created it): an update decides.
        }
        if (!(await scrubbed(() => q.updateStatement(sql, w)))) throw await refusal()
        if (w.touch) touched = now
        return null
      },

      /**
       * Replaces everything stored for the session with `enc` (a migration, a catch-up, a repair), in one
       * transaction. `create`: the row may be created (unless a tombstone is as new). Returns the row's incarnation.
       */
      async replace(enc: EncodedSession, options: { create: boolean }): Promise<string> {
        if (enc.creds === null) throw new Error('a session without creds cannot be stored')
        const row = { clientId, status: enc.status, jid: enc.jid, epoch: enc.version.epoch, seq: enc.version.seq, keyCheck, keyIds, createdAt: enc.createdAt, creds: enc.creds }
        return scrubbed(() =>
          sql.begin(async (tx) => {
            if (token !== null && !(await q.leaseHeld(tx, clientId, token))[0].held) throw new StaleFencingTokenError(clientId, token)
            const [current] = await q.lockVersion(tx, clientId)
            if (current) {
              if (compareVersions({ epoch: Number(current.epoch), seq: Number(current.seq) }, enc.version) > 0) throw new VersionConflictError(clientId)
            } else {
              const [tomb] = await q.selectTombstone(tx, clientId)
              const deletedLater = tomb && compareVersions({ epoch: Number(tomb.epoch), seq: Number(tomb.seq) }, enc.version) >= 0
              if (!options.create || deletedLater) throw new SessionDeletedError(clientId)
            }
            const [{ incarnation }] = await q.upsertSession(tx, row)
            await q.deleteKeys(tx, clientId)
            const rows = rowsOf(enc.keys)
            if (rows.types.length > 0) await q.insertKeys(tx, clientId, rows)
            return incarnation
          }),
        )
      },
    }
  }

  return {
    session,

    /** Deletes a session (keys and creds cascade) and leaves its tombstone. Whether a session existed. */
    async remove(clientId: string): Promise<boolean> {
      const [r] = await scrubbed(() => q.deleteSession(sql, clientId))
      return r.deleted > 0
    },

    async list(): Promise<StoredSession[]> {
      return (await scrubbed(() => q.listSessions(sql))).map((r) => ({
        clientId: r.client_id,
        status: r.status,
        jid: r.jid,
        createdAt: iso(r.created_at),
        updatedAt: iso(r.updated_at),
        location: 'postgres' as const,
      }))
    },

    /** The versions these sessions were deleted at, for those that ever were. */
    async tombstones(clientIds: string[]): Promise<Map<string, SessionVersion>> {
      if (clientIds.length === 0) return new Map()
      const rows = await scrubbed(() => q.selectTombstones(sql, clientIds))
      return new Map(rows.map((r) => [r.client_id, { epoch: Number(r.version_epoch), seq: Number(r.version_seq) }]))
    },

    /** The distinct key-check values stored sessions were written with (null = unencrypted). */
    async keyChecks(): Promise<Array<string | null>> {
      return (await scrubbed(() => q.distinctKeyChecks(sql))).map((r) => r.key_check)
    },

    /** This database's own id (created by migration 003): what a mirror file records as its database. */
    async identity(): Promise<string> {
      const [row] = await scrubbed(() => q.databaseId(sql))
      if (!row) throw new Error('whatsapp_keystore_identity is empty; run npm run db:migrate')
      return row.database_id
    },

    async ping(): Promise<boolean> {
      await q.ping(sql)
      return true
    },
  }
}

export type SessionDatabase = ReturnType<typeof createSessionDatabase>
export type DatabaseSession = ReturnType<SessionDatabase['session']>

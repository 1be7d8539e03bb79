// The Postgres backend: the whole session in two queries, each write batch in one statement, a full
// replace (migration, catch-up) in one transaction. Values are encoded by the shared codec (BufferJSON,
// AES-256-GCM with a key), so a value moves between the file and the database unchanged.
import type { AuthenticationCreds } from '@whiskeysockets/baileys'
import type { TransactionSql } from 'postgres'
import type { Sql } from '../../db/connection.js'
import type { KeyMap, SessionBackend, SessionSnapshot, WriteBatch } from '../backend.js'
import type { Codec } from '../codec.js'
import { StaleFencingTokenError, VersionConflictError } from '../errors.js'
import { encodeBatch, type EncodedBatch } from '../file/format.js'
import { compareVersions } from '../memory.js'
import type { StoredSession } from '../types.js'
import * as q from './statements.js'

export interface PostgresBackendOptions {
  sql: Sql
  codec: Codec
  logger?: { debug: (obj: object, msg: string) => void }
}

/**
 * A database error without its `detail`, `where` and parameters, which can quote row contents (creds,
 * key values): callers log errors whole.
 */
export class DatabaseError extends Error {
  constructor(message: string, readonly code: string | undefined, readonly sqlState: string | undefined) {
    super(message)
    this.name = 'DatabaseError'
  }
}

function scrub(err: unknown): unknown {
  if (err instanceof StaleFencingTokenError || err instanceof VersionConflictError) return err
  if (err && typeof err === 'object' && 'severity' in err) {
    const e = err as { message?: string; code?: string }
    return new DatabaseError(`database error: ${e.message ?? 'unknown'}`, 'DATABASE_ERROR', e.code)
  }
  return err
}

async function scrubbed<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw scrub(err)
  }
}

function iso(d: Date | string): string {
  return d instanceof Date ? d.toISOString() : new Date(d).toISOString()
}

export function createPostgresBackend({ sql, codec, logger }: PostgresBackendOptions) {
  function encodeRows(entries: Iterable<[string, string, unknown]>) {
    const rows = { types: [] as string[], ids: [] as string[], values: [] as string[] }
    for (const [type, id, value] of entries) {
      rows.types.push(type)
      rows.ids.push(id)
      rows.values.push(codec.encode(type, value))
    }
    return rows
  }

  function* snapshotEntries(keys: KeyMap): Iterable<[string, string, unknown]> {
    for (const [type, ids] of keys) for (const [id, value] of ids) if (value != null) yield [type, id, value]
  }

  async function assertLease(tx: TransactionSql<{}>, clientId: string, fencingToken: number | undefined): Promise<void> {
    if (fencingToken === undefined) return
    const [{ held }] = await q.leaseHeld(tx, clientId, fencingToken)
    if (!held) throw new StaleFencingTokenError(clientId, fencingToken)
  }

  const backend = {
    kind: 'postgres' as const,

    async load(clientId: string): Promise<SessionSnapshot | null> {
      // Both queries go out at once: one round trip of latency.
      const [rows, keyRows] = await scrubbed(() => Promise.all([q.selectSession(sql, clientId), q.selectKeys(sql, clientId)]))
      const row = rows[0]
      if (!row) return null
      codec.verifyKeyCheck(row.key_check, clientId)
      const keys: KeyMap = new Map()
      for (const k of keyRows) {
        let ids = keys.get(k.type)
        if (!ids) keys.set(k.type, (ids = new Map()))
        ids.set(k.key_id, codec.decode(k.type, k.value, clientId))
      }
      return {
        clientId,
        creds: codec.decodeCreds(row.creds, clientId) as AuthenticationCreds,
        keys,
        version: { epoch: Number(row.version_epoch), seq: Number(row.version_seq) },
        status: row.status,
        jid: row.jid,
        createdAt: iso(row.created_at),
        updatedAt: iso(row.updated_at),
      }
    },

    async apply(clientId: string, batch: WriteBatch, options: { fencingToken?: number } = {}): Promise<void> {
      return backend.applyEncoded(clientId, encodeBatch(codec, batch as Parameters<typeof encodeBatch>[1]), options)
    },

    /**
     * apply() for a batch encoded with this backend's codec (encodeBatch in file/format.ts): Postgres mode
     * encodes each batch once for the database and the file mirror.
     */
    async applyEncoded(clientId: string, batch: EncodedBatch, options: { fencingToken?: number } = {}): Promise<void> {
      const upserts = { types: [] as string[], ids: [] as string[], values: [] as string[] }
      const deletes = { types: [] as string[], ids: [] as string[] }
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
      const write: q.EncodedWrite = {
        clientId,
        creds: batch.creds ?? null,
        status: batch.status ?? null,
        jidGiven: batch.jid !== undefined,
        jid: batch.jid ?? null,
        epoch: batch.version.epoch,
        seq: batch.version.seq,
        keyCheck: codec.keyCheck,
        upserts,
        deletes,
        fencingToken: options.fencingToken ?? null,
      }
      const [r] = await scrubbed(() => q.applyStatement(sql, write))
      if (!r.lease_ok) throw new StaleFencingTokenError(clientId, options.fencingToken as number)
      if (r.applied === 0) throw new VersionConflictError(clientId)
      logger?.debug({ clientId, upserted: r.upserted, deleted: r.deleted }, 'keystore batch committed')
    },

    /** The codec values are encoded with (Postgres mode shares one codec: sync.ts encodes once). */
    codec,

    async replace(clientId: string, snapshot: SessionSnapshot, options: { fencingToken?: number } = {}): Promise<void> {
      const rows = encodeRows(snapshotEntries(snapshot.keys))
      const creds = codec.encodeCreds(snapshot.creds)
      await scrubbed(() => sql.begin(async (tx) => {
        await assertLease(tx, clientId, options.fencingToken)
        const [current] = await q.lockSessionVersion(tx, clientId)
        if (current) {
          const stored = { epoch: Number(current.version_epoch), seq: Number(current.version_seq) }
          if (compareVersions(stored, snapshot.version) > 0) throw new VersionConflictError(clientId)
        }
        await q.upsertSessionRow(tx, {
          clientId,
          creds,
          status: snapshot.status,
          jid: snapshot.jid,
          epoch: snapshot.version.epoch,
          seq: snapshot.version.seq,
          keyCheck: codec.keyCheck,
          createdAt: snapshot.createdAt,
        })
        await q.deleteKeys(tx, clientId)
        if (rows.types.length > 0) await q.insertKeys(tx, clientId, rows)
      }))
    },

    /** The distinct key-check values stored sessions were written with (null = unencrypted). */
    async keyChecks(): Promise<Array<string | null>> {
      return (await scrubbed(() => q.distinctKeyChecks(sql))).map((r) => r.key_check)
    },

    async remove(clientId: string): Promise<boolean> {
      return (await q.deleteSession(sql, clientId)).length > 0
    },

    async list(): Promise<StoredSession[]> {
      return (await q.listSessions(sql)).map((r) => ({
        clientId: r.client_id,
        status: r.status,
        jid: r.jid,
        createdAt: iso(r.created_at),
        updatedAt: iso(r.updated_at),
        location: 'postgres' as const,
      }))
    },

    /** Stored keys per type (no key material): health and metrics. One GROUP BY on the primary key. */
    async keyCounts(clientId: string): Promise<Record<string, number>> {
      const rows = await scrubbed(() => sql<{ type: string; n: number }[]>`
        SELECT type, count(*)::int AS n FROM whatsapp_session_keys WHERE client_id = ${clientId} GROUP BY type`)
      return Object.fromEntries(rows.map((r) => [r.type, r.n]))
    },

    async ping(): Promise<boolean> {
      await sql`SELECT 1`
      return true
    },

    /** The pool belongs to the store that created it: nothing to release here. */
    async close(): Promise<void> {},
  }
  return backend satisfies SessionBackend
}

export type PostgresBackend = ReturnType<typeof createPostgresBackend>

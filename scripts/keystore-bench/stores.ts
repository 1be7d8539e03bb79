// The stores the keystore bench replays the trace on, behind one small interface, and the replay.
//   minimal   one statement per set and nothing else: an upsert (values as BufferJSON text), a delete
//             for null values, or both in one statement: the floor a Postgres keystore cannot go under
//   postgres  this keystore in Postgres mode (acknowledged on COMMIT, mirror, fencing, versions)
//   file      this keystore in file mode (every acknowledged set fdatasynced)
//   multifile Baileys' useMultiFileAuthState (writeFile per key, never fsyncs): the usual reference
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { BufferJSON, useMultiFileAuthState, type SignalDataSet, type SignalKeyStore } from '@whiskeysockets/baileys'
import type { Sql } from '../../src/db/index.js'
import { createSessionStore } from '../../src/keystore/index.js'
import type { Call } from './trace.js'

export const CLIENT = 'bench'

export interface Subject {
  keys: Pick<SignalKeyStore, 'set'> & Partial<Pick<SignalKeyStore, 'get'>>
  saveCreds(): Promise<void>
  close(): Promise<void>
  /** A fresh instance reading what was stored (from the database alone in Postgres mode). */
  reopen?(): Promise<{ keys: SignalKeyStore; close(): Promise<void> }>
}

export const MINIMAL_TABLE = `
  CREATE TABLE IF NOT EXISTS bench_minimal_keys (
    client_id text NOT NULL, type text NOT NULL, key_id text NOT NULL, value text NOT NULL,
    PRIMARY KEY (client_id, type, key_id))`

export function minimalStore(sql: Sql): Subject {
  return {
    keys: {
      async set(data) {
        const up = { types: [] as string[], ids: [] as string[], values: [] as string[] }
        const del = { types: [] as string[], ids: [] as string[] }
        for (const [type, ids] of Object.entries(data as Record<string, Record<string, unknown>>)) {
          for (const [id, value] of Object.entries(ids)) {
            if (value == null) {
              del.types.push(type)
              del.ids.push(id)
            } else {
              up.types.push(type)
              up.ids.push(id)
              up.values.push(JSON.stringify(value, BufferJSON.replacer))
            }
          }
        }
        // The one statement the set needs: an upsert, a delete, or both in one statement.
        const upsert = sql`
          INSERT INTO bench_minimal_keys (client_id, type, key_id, value)
          SELECT ${CLIENT}, u.type, u.key_id, u.value FROM unnest(${up.types}::text[], ${up.ids}::text[], ${up.values}::text[]) AS u(type, key_id, value)
          ON CONFLICT (client_id, type, key_id) DO UPDATE SET value = EXCLUDED.value`
        if (del.types.length === 0) return void (await upsert)
        const remove = sql`
          DELETE FROM bench_minimal_keys k USING unnest(${del.types}::text[], ${del.ids}::text[]) AS d(type, key_id)
           WHERE k.client_id = ${CLIENT} AND k.type = d.type AND k.key_id = d.key_id`
        await (up.types.length === 0 ? remove : sql`WITH del AS (${remove}) ${upsert}`)
      },
    },
    saveCreds: async () => {},
    close: async () => {},
  }
}

/** `sql`: the pool to borrow (as the server lends its one pool to the keystore); else the store opens its own. */
export async function ourStore(dir: string, databaseUrl?: string, sql?: Sql): Promise<Subject> {
  const sessionPath = join(dir, 's')
  const store = await createSessionStore({ sessionPath, databaseUrl, sql })
  const h = await store.open(CLIENT)
  return {
    keys: h.state.keys,
    saveCreds: () => h.saveCreds(),
    close: () => store.close(),
    async reopen() {
      const s = await createSessionStore({ sessionPath: databaseUrl ? join(dir, 'fresh') : sessionPath, databaseUrl })
      const again = await s.open(CLIENT)
      return { keys: again.state.keys, close: () => s.close() }
    },
  }
}

export async function multiFile(dir: string): Promise<Subject> {
  const { state, saveCreds } = await useMultiFileAuthState(join(dir, 'multifile'))
  return {
    keys: state.keys,
    saveCreds,
    close: async () => {},
    async reopen() {
      const { state: s } = await useMultiFileAuthState(join(dir, 'multifile'))
      return { keys: s.keys, close: async () => {} }
    },
  }
}

/** Per-call timings of a replay, and what every set wrote (canonical text per type/id) to check a reopen. */
export class Replay {
  readonly get: number[] = []
  readonly set: number[] = []
  readonly model = new Map<string, string>()

  constructor(private readonly subject: Subject) {}

  async run(call: Call, timed = true): Promise<void> {
    const t0 = performance.now()
    if (call.op === 'parallel') {
      await Promise.all(call.calls.map((c) => this.run(c, timed)))
      return
    }
    if (call.op === 'creds') return this.subject.saveCreds()
    if (call.op === 'get') {
      if (!this.subject.keys.get) return
      await this.subject.keys.get(call.type as keyof SignalDataSet, call.ids)
      if (timed) this.get.push(performance.now() - t0)
      return
    }
    for (const [type, ids] of Object.entries(call.data)) {
      for (const [id, v] of Object.entries(ids)) this.model.set(`${type}\u0000${id}`, v == null ? 'null' : JSON.stringify(v, BufferJSON.replacer))
    }
    await this.subject.keys.set(call.data as SignalDataSet)
    if (timed) this.set.push(performance.now() - t0)
  }

  /** Every key the replay wrote, read back from a fresh instance: null, or what differs. */
  async check(keys: SignalKeyStore): Promise<string | null> {
    let bad = 0
    let first = ''
    for (const [key, want] of this.model) {
      const [type, id] = key.split('\u0000')
      if (type === 'app-state-sync-key') continue // revived as a protobuf object by useMultiFileAuthState
      const got = (await keys.get(type as keyof SignalDataSet, [id]))[id]
      if ((got == null ? 'null' : JSON.stringify(got, BufferJSON.replacer)) !== want) {
        bad++
        first ||= type
      }
    }
    return bad === 0 ? null : `${bad} keys differ (first of type ${first})`
  }
}

export function pct(xs: number[], p: number): number {
  if (xs.length === 0) return 0
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}

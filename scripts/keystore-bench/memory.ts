// What an open session costs in memory: the heap a store grows by for each freshly paired session it
// opens (812 pre-keys, a few contacts' sessions, mappings and device lists), over many sessions.
import { randomBytes } from 'node:crypto'
import { readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import v8 from 'node:v8'
import vm from 'node:vm'
import type { Sql } from '../../src/db/index.js'
import { createSessionStore, type AuthStateHandle } from '../../src/keystore/index.js'

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

async function pairLike(h: AuthStateHandle): Promise<void> {
  const preKeys: Record<string, { private: Buffer; public: Buffer }> = {}
  for (let i = 1; i <= 812; i++) preKeys[String(i)] = { private: randomBytes(32), public: randomBytes(32) }
  await h.state.keys.set({ 'pre-key': preKeys } as Parameters<typeof h.state.keys.set>[0])
  await h.state.keys.set({
    session: { '15550001111.7': randomBytes(1500), '100000000000001_1.0': randomBytes(1500), '200000000000002_1.0': randomBytes(1500) },
    'lid-mapping': { '15550001111': '100000000000001', '100000000000001_reverse': '15550001111', '15550002222': '200000000000002', '200000000000002_reverse': '15550002222' },
    'device-list': { '15550001111': ['0', '7'], '15550002222': ['0'] },
    tctoken: { '200000000000002@lid': { token: randomBytes(24), timestamp: '1717000000' } },
  })
  await h.saveCreds()
}

async function cloneFiles(dir: string, count: number): Promise<void> {
  for (const name of await readdir(dir)) {
    if (!name.startsWith('seed.')) continue
    const text = await readFile(join(dir, name), 'utf8')
    for (let i = 0; i < count; i++) await writeFile(join(dir, name.replace('seed.', `s${i}.`)), text.replaceAll('"clientId":"seed"', `"clientId":"s${i}"`))
  }
}

async function cloneRows(sql: Sql, count: number): Promise<void> {
  const ids = Array.from({ length: count }, (_, i) => `s${i}`)
  await sql`
    INSERT INTO whatsapp_sessions (client_id, status, jid, key_check, key_ids)
    SELECT c, status, jid, key_check, key_ids FROM whatsapp_sessions, unnest(${ids}::text[]) AS c WHERE client_id = 'seed'`
  await sql`
    INSERT INTO whatsapp_session_versions (client_id, version_epoch, version_seq)
    SELECT c, version_epoch, version_seq FROM whatsapp_session_versions, unnest(${ids}::text[]) AS c WHERE client_id = 'seed'`
  await sql`INSERT INTO whatsapp_session_creds (client_id, creds) SELECT c, creds FROM whatsapp_session_creds, unnest(${ids}::text[]) AS c WHERE client_id = 'seed'`
  await sql`
    INSERT INTO whatsapp_session_keys (client_id, type, key_id, value)
    SELECT c, type, key_id, value FROM whatsapp_session_keys, unnest(${ids}::text[]) AS c WHERE client_id = 'seed'`
}

/** Heap (and off-heap) bytes per open session, over `count` sessions opened by one store. */
export async function memoryPerSession(o: { dir: string; count: number; databaseUrl?: string; sql?: Sql; encryptionKey?: string }) {
  const seedPath = join(o.dir, 'seed-folder')
  const seed = await createSessionStore({ sessionPath: seedPath, databaseUrl: o.databaseUrl, encryptionKey: o.encryptionKey })
  await pairLike(await seed.open('seed'))
  await seed.close()
  // File mode: copies of the files; Postgres mode: copies of the rows, opened with an empty mirror folder.
  const sessionPath = o.databaseUrl ? join(o.dir, 'mirror') : seedPath
  if (o.databaseUrl && o.sql) await cloneRows(o.sql, o.count)
  else await cloneFiles(seedPath, o.count)
  const store = await createSessionStore({ sessionPath, databaseUrl: o.databaseUrl, encryptionKey: o.encryptionKey })
  const handles: AuthStateHandle[] = []
  gc()
  gc()
  const before = process.memoryUsage()
  for (let i = 0; i < o.count; i++) handles.push(await store.open(`s${i}`))
  gc()
  gc()
  const after = process.memoryUsage()
  await store.close()
  return {
    heap: (after.heapUsed - before.heapUsed) / o.count,
    external: (after.external - before.external) / o.count,
  }
}


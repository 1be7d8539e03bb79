// The Postgres backend against real Postgres: every key type round-trips, each batch is ONE statement,
// the session loads in at most two, concurrent batches never corrupt, a stale lease writes nothing.
import t from 'tap'
import { proto, type SignalDataSet } from '@whiskeysockets/baileys'
import { createCodec } from '../../src/keystore/codec.js'
import { isConnectionError, StaleFencingTokenError, VersionConflictError } from '../../src/keystore/postgres/index.js'
import { createSql } from '../../src/db/index.js'
import { migratedDatabase, queryCounter } from '../helpers/db.js'
import { KEY_TYPES, canon, sampleCreds, sampleKeys } from './fixtures/values.js'
import { postgresBackend } from './fixtures/backends.js'

const createPostgresBackend = ({ sql, codec }: { sql: Parameters<typeof postgresBackend>[0]; codec: Parameters<typeof postgresBackend>[1] }) => postgresBackend(sql, codec)

const codec = createCodec()

/** Any type, any value shape: the backend stores what Baileys (or a future Baileys) hands it. */
const keysOf = (k: Record<string, Record<string, unknown>>) => k as SignalDataSet

t.test('every key type round-trips: Buffers byte-equal, app-state-sync-key revived as protobuf', async (t) => {
  const { sql } = await migratedDatabase(t)
  const pg = createPostgresBackend({ sql, codec })
  const creds = sampleCreds()
  const keys = sampleKeys()
  // A brand-new session: the parent row and its keys in the same statement (FK checked at statement end).
  await pg.apply('alice', { creds, keys, status: 'active', jid: '15550001111:7@s.whatsapp.net', version: { epoch: 0, seq: 1 } })

  const s = await pg.load('alice')
  t.ok(s)
  if (!s) return
  t.equal(canon(s.creds), canon(creds), 'creds byte-equal')
  t.equal(s.status, 'active')
  t.equal(s.jid, '15550001111:7@s.whatsapp.net')
  t.same(s.version, { epoch: 0, seq: 1 })
  t.same([...s.keys.keys()].sort(), [...KEY_TYPES].sort())
  for (const type of KEY_TYPES) {
    for (const [id, value] of Object.entries(keys[type] ?? {})) {
      t.equal(canon(s.keys.get(type)?.get(id)), canon(value), `${type} ${id}`)
    }
  }
  const ask = s.keys.get('app-state-sync-key')?.get('AAAAAGo7')
  t.ok(ask instanceof proto.Message.AppStateSyncKeyData, 'revived as proto.Message.AppStateSyncKeyData')
  t.ok(Buffer.isBuffer(s.keys.get('session')?.get('15550001111.7')), 'Buffers come back as Buffers')
  t.equal(await pg.load('nobody'), null)
})

t.test('null deletes, missing ids stay absent, creds-less batches keep the creds', async (t) => {
  const { sql } = await migratedDatabase(t)
  const pg = createPostgresBackend({ sql, codec })
  const creds = sampleCreds()
  await pg.apply('bob', { creds, keys: keysOf({ 'pre-key': { '1': { a: 1 }, '2': { a: 2 } }, session: { x: Buffer.from('x') } }), version: { epoch: 0, seq: 1 } })
  await pg.apply('bob', { keys: keysOf({ 'pre-key': { '1': null, '3': { a: 3 } }, session: { never: null } }), version: { epoch: 0, seq: 2 } })
  const s = await pg.load('bob')
  t.same([...(s?.keys.get('pre-key')?.keys() ?? [])].sort(), ['2', '3'])
  t.equal(s?.keys.get('pre-key')?.has('1'), false)
  t.equal(s?.keys.get('session')?.has('never'), false)
  t.equal(canon(s?.creds), canon(creds))
  t.equal(s?.status, 'inactive', 'default status')
  t.same(await pg.keyCounts('bob'), { 'pre-key': 2, session: 1 })
  // Other sessions are untouched by bob's writes (client_id in every WHERE).
  await pg.apply('carol', { creds, keys: keysOf({ 'pre-key': { '1': { c: 1 } } }), version: { epoch: 0, seq: 1 } })
  await pg.apply('bob', { keys: keysOf({ 'pre-key': { '2': null } }), version: { epoch: 0, seq: 3 } })
  t.same((await pg.load('carol'))?.keys.get('pre-key')?.get('1'), { c: 1 })
})

t.test('a batch is ONE statement whatever it holds; load is at most two; 812 pre-keys in one', async (t) => {
  const { url } = await migratedDatabase(t)
  const counter = queryCounter()
  const sql = createSql(url, { max: 2, debug: counter.debug })
  t.teardown(() => sql.end({ timeout: 1 }))
  const pg = createPostgresBackend({ sql, codec })
  await sql`SELECT 1` // connection set-up (type fetch) out of the count
  counter.reset()

  const preKeys: Record<string, unknown> = {}
  for (let i = 1; i <= 812; i++) preKeys[String(i)] = { private: Buffer.alloc(32, i % 256), public: Buffer.alloc(32, 7) }
  await pg.apply('dave', { creds: sampleCreds(), keys: keysOf({ 'pre-key': preKeys }), version: { epoch: 0, seq: 1 } })
  t.equal(counter.queries.length, 1, `812 pre-keys: ${counter.queries.length} statement(s)`)
  t.same(await pg.keyCounts('dave'), { 'pre-key': 812 })

  counter.reset()
  await pg.apply('dave', {
    creds: sampleCreds(),
    keys: keysOf({
      session: { a: Buffer.from('1'), b: Buffer.from('2') },
      tctoken: { 'x@lid': { token: Buffer.from('t'), timestamp: '1' } },
      'pre-key': { '1': null, '2': null, '3': { private: Buffer.alloc(32), public: Buffer.alloc(32) } },
      'lid-mapping': { '1555': '1000', '1000_reverse': '1555' },
    }),
    status: 'active',
    jid: 'j@s.whatsapp.net',
    version: { epoch: 0, seq: 2 },
  })
  t.equal(counter.queries.length, 1, 'several types, upserts and deletes: one statement')

  counter.reset()
  const s = await pg.load('dave')
  t.ok(counter.queries.length <= 2, `load: ${counter.queries.length} queries: ${counter.queries.map((q) => q.slice(0, 60)).join(' | ')}`)
  t.equal(s?.keys.get('pre-key')?.size, 810)
  t.equal(s?.keys.get('session')?.size, 2)
})

t.test('concurrent batches: each is all-or-nothing, the newest version wins, sessions stay apart', async (t) => {
  const { url } = await migratedDatabase(t)
  const pool = createSql(url, { max: 8 })
  t.teardown(() => pool.end({ timeout: 1 }))
  const pg = createPostgresBackend({ sql: pool, codec })
  const creds = sampleCreds()
  await pg.apply('erin', { creds, keys: keysOf({ session: { shared: Buffer.from('0') } }), version: { epoch: 0, seq: 1 } })

  const N = 40
  const results = await Promise.allSettled(
    Array.from({ length: N }, (_, i) => {
      const seq = i + 2
      return pg.apply('erin', {
        keys: keysOf({ session: { shared: Buffer.from(String(seq)) }, 'pre-key': { [`k${seq}`]: { seq, pad: Buffer.alloc(64, seq) } } }),
        version: { epoch: 0, seq },
      })
    }),
  )
  const ok = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i + 2] : []))
  const rejected = results.flatMap((r, i) => (r.status === 'rejected' ? [{ seq: i + 2, err: r.reason as unknown }] : []))
  // One assertion per write whichever way the race went, so the test's count does not vary.
  t.same(rejected.filter((r) => !(r.err instanceof VersionConflictError)).map((r) => r.seq), [], 'every rejected write was refused as older, none failed')
  t.ok(ok.length > 0)
  const s = await pg.load('erin')
  const max = Math.max(...ok)
  t.same(s?.version, { epoch: 0, seq: max }, 'the newest acknowledged version is stored')
  t.equal(s?.keys.get('session')?.get('shared')?.toString(), String(max), 'the shared key holds the newest write')
  for (let seq = 2; seq <= N + 1; seq++) {
    const acknowledged = ok.includes(seq)
    t.equal(s?.keys.get('pre-key')?.has(`k${seq}`), acknowledged, acknowledged ? `acknowledged seq ${seq} present` : `rejected seq ${seq} wrote nothing`)
  }

  // Many sessions at once, each in order: every write lands.
  await Promise.all(
    Array.from({ length: 8 }, async (_, c) => {
      for (let seq = 1; seq <= 10; seq++) {
        await pg.apply(`c${c}`, { creds, keys: keysOf({ session: { [`s${seq}`]: Buffer.from([c, seq]) } }), version: { epoch: 0, seq } })
      }
    }),
  )
  for (let c = 0; c < 8; c++) {
    const x = await pg.load(`c${c}`)
    t.equal(x?.keys.get('session')?.size, 10)
    t.same([...(x?.keys.get('session')?.get('s10') as Buffer)], [c, 10])
  }
})

t.test('stale fencing token: rejected with STALE_FENCING_TOKEN, nothing written', async (t) => {
  const { sql } = await migratedDatabase(t)
  const pg = createPostgresBackend({ sql, codec })
  const creds = sampleCreds()
  await sql`INSERT INTO whatsapp_session_leases (client_id, owner, fencing_token, expires_at) VALUES ('fay', 'b', 2, now() + interval '1 minute')`

  const err = await pg
    .apply('fay', { creds, keys: keysOf({ session: { a: Buffer.from('a') } }), version: { epoch: 1, seq: 1 } }, { fencingToken: 1 })
    .catch((e: unknown) => e)
  t.type(err, StaleFencingTokenError)
  t.equal((err as StaleFencingTokenError).code, 'STALE_FENCING_TOKEN')
  t.equal((await sql`SELECT 1 FROM whatsapp_sessions WHERE client_id = 'fay'`).length, 0, 'no session row')
  t.equal((await sql`SELECT 1 FROM whatsapp_session_keys WHERE client_id = 'fay'`).length, 0, 'no key rows')

  await pg.apply('fay', { creds, keys: keysOf({ session: { a: Buffer.from('a') } }), version: { epoch: 2, seq: 1 } }, { fencingToken: 2 })
  // Taken over: token 3 now. The old holder's write (even to an existing row) changes nothing.
  await sql`UPDATE whatsapp_session_leases SET fencing_token = 3 WHERE client_id = 'fay'`
  const before = await sql`SELECT s.client_id, c.creds, s.status, v.version_seq, s.updated_at FROM whatsapp_sessions s JOIN whatsapp_session_creds c USING (client_id) JOIN whatsapp_session_versions v USING (client_id) WHERE s.client_id = 'fay'`
  await t.rejects(
    pg.apply('fay', { creds: sampleCreds(), status: 'logged_out', keys: keysOf({ session: { a: null, b: Buffer.from('b') } }), version: { epoch: 2, seq: 2 } }, { fencingToken: 2 }),
    { code: 'STALE_FENCING_TOKEN' },
  )
  t.same(await sql`SELECT s.client_id, c.creds, s.status, v.version_seq, s.updated_at FROM whatsapp_sessions s JOIN whatsapp_session_creds c USING (client_id) JOIN whatsapp_session_versions v USING (client_id) WHERE s.client_id = 'fay'`, before)
  t.same((await sql<{ key_id: string }[]>`SELECT key_id FROM whatsapp_session_keys WHERE client_id = 'fay'`).map((r) => r.key_id), ['a'])
  await t.rejects(pg.replace('fay', (await pg.load('fay'))!, { fencingToken: 2 }), { code: 'STALE_FENCING_TOKEN' })
})

t.test('replace swaps everything in one transaction; remove cascades; list has no key material', async (t) => {
  const { sql } = await migratedDatabase(t)
  const pg = createPostgresBackend({ sql, codec })
  await pg.apply('gus', { creds: sampleCreds(), keys: keysOf({ session: { old: Buffer.from('o') } }), version: { epoch: 0, seq: 1 } })
  const snapshot = {
    clientId: 'gus',
    creds: sampleCreds(),
    keys: new Map<string, Map<string, unknown>>([['pre-key', new Map<string, unknown>([['9', { k: Buffer.from('9') }]])]]),
    version: { epoch: 0, seq: 5 },
    status: 'active' as const,
    jid: 'g@s.whatsapp.net',
    createdAt: new Date(0).toISOString(),
    updatedAt: new Date().toISOString(),
  }
  await pg.replace('gus', snapshot)
  const s = await pg.load('gus')
  t.same([...(s?.keys.keys() ?? [])], ['pre-key'])
  t.equal(canon(s?.keys.get('pre-key')?.get('9')), canon({ k: Buffer.from('9') }))
  t.same(s?.version, { epoch: 0, seq: 5 })
  await t.rejects(pg.replace('gus', { ...snapshot, version: { epoch: 0, seq: 4 } }), VersionConflictError, 'an older snapshot never overwrites')

  const list = await pg.list()
  t.same(list.map((x) => [x.clientId, x.status, x.jid, x.location]), [['gus', 'active', 'g@s.whatsapp.net', 'postgres']])
  t.notMatch(JSON.stringify(list), /creds|noiseKey|private/)
  t.equal(await pg.remove('gus'), true)
  t.equal(await pg.remove('gus'), false)
  t.equal((await sql`SELECT 1 FROM whatsapp_session_keys WHERE client_id = 'gus'`).length, 0, 'keys cascaded')
  await pg.close()
  t.equal((await sql`SELECT 1 AS one`)[0].one, 1, 'close() left the shared pool open')
})

t.test('isConnectionError: a refused connection yes, a data error no', async (t) => {
  const dead = createSql('postgres://postgres@127.0.0.1:1/none', { max: 1, connectTimeout: 2 })
  t.teardown(() => dead.end({ timeout: 1 }))
  const refused = await dead`SELECT 1`.catch((e: unknown) => e)
  t.equal(isConnectionError(refused), true, `refused: ${String((refused as { code?: string }).code)}`)
  const pg = createPostgresBackend({ sql: dead, codec })
  t.equal(isConnectionError(await pg.load('x').catch((e: unknown) => e)), true, 'through the backend too')

  const { sql } = await migratedDatabase(t)
  const live = createPostgresBackend({ sql, codec })
  const notNull = await live.apply('h', { keys: keysOf({ session: { a: Buffer.from('a') } }), version: { epoch: 0, seq: 1 } }).catch((e: unknown) => e)
  t.ok(notNull instanceof Error, 'a new session without creds is refused')
  t.equal(isConnectionError(notNull), false)
  t.equal(isConnectionError(new StaleFencingTokenError('h', 1)), false)
  t.equal(isConnectionError(Object.assign(new Error('x'), { code: '57P01' })), true, 'admin shutdown')
  t.equal(isConnectionError(Object.assign(new Error('x'), { code: 'CONNECTION_CLOSED' })), true)
  t.equal(isConnectionError(Object.assign(new Error('x'), { code: '23505' })), false, 'unique violation')
})

// The message store, the idempotency keys and the outbound queue, each in its two implementations
// (Postgres, files) against the same expectations: contents sealed at rest, status forward only,
// failed sticky, purge by age; claims, replays, mismatches, takeovers; queue order and claims.
import t, { type Test } from 'tap'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { WAMessage } from '@whiskeysockets/baileys'
import { createSealer } from '../../src/messages/payload.js'
import { createPostgresMessageStore } from '../../src/messages/store/postgres.js'
import { createFileMessageStore } from '../../src/messages/store/file.js'
import { Status, type MessageStore } from '../../src/messages/store/types.js'
import { ANSWER_GATHER_MS, createPostgresIdempotencyStore } from '../../src/messages/idempotency/postgres.js'
import { createFileIdempotencyStore } from '../../src/messages/idempotency/file.js'
import { IDEMPOTENCY_LOCK_MS, IDEMPOTENCY_TTL_MS, type IdempotencyStore } from '../../src/messages/idempotency/types.js'
import { createPostgresQueueStore } from '../../src/messages/queue/postgres.js'
import { createFileQueueStore } from '../../src/messages/queue/file.js'
import type { QueueStore } from '../../src/messages/queue/types.js'
import { createSql } from '../../src/db/index.js'
import { createSendWrites, LINGER_MS } from '../../src/messages/postgres-writes.js'
import { createMigratedDatabase, queryCounter } from '../helpers/db.js'
import { tempDir } from '../app/helpers.js'
import { createManualClock } from '../helpers/manual-clock.js'

const KEY = 'b'.repeat(64)
const sealer = createSealer(KEY)
const msg = (id: string, text: string, fromMe = true): WAMessage => ({
  key: { remoteJid: '15550002222@s.whatsapp.net', fromMe, id },
  message: { conversation: text },
  messageTimestamp: 1_700_000_000,
})
const at = (s: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, s))

async function messageStoreBehaviour(t: Test, store: MessageStore, rawAtRest: () => Promise<string>) {
  await store.save('c1', msg('M1', 'secret words'), { status: Status.SERVER_ACK, at: at(1) })
  const got = await store.get('c1', 'M1')
  t.equal(got?.message.message?.conversation, 'secret words')
  t.equal(got?.message.key.remoteJid, '15550002222@s.whatsapp.net')
  t.equal(got?.fromMe, true)
  t.equal(got?.status, Status.SERVER_ACK)
  t.same(got?.sentAt, at(1))
  t.equal(await store.get('c2', 'M1'), null, 'per session')
  t.notMatch(await rawAtRest(), /secret words|15550002222/, 'neither content nor number in clear text at rest')

  await store.updateStatus('c1', [{ id: 'M1', status: Status.READ, at: at(3) }])
  await store.updateStatus('c1', [{ id: 'M1', status: Status.DELIVERY_ACK, at: at(4) }])
  let s = await store.get('c1', 'M1')
  t.equal(s?.status, Status.READ, 'never backwards')
  t.same(s?.deliveredAt, at(3), 'read implies delivered')
  t.same(s?.readAt, at(3))
  await store.updateStatus('c1', [{ id: 'M1', status: Status.ERROR, reason: 'late', at: at(5) }])
  t.equal((await store.get('c1', 'M1'))?.status, Status.READ, 'an error after delivery changes nothing')

  await store.save('c1', msg('M2', 'x'), { status: Status.PENDING, at: at(1) })
  await store.updateStatus('c1', [{ id: 'M2', status: Status.ERROR, reason: 'refused (479)', at: at(2) }])
  await store.updateStatus('c1', [{ id: 'M2', status: Status.DELIVERY_ACK, at: at(3) }])
  s = await store.get('c1', 'M2')
  t.equal(s?.status, Status.ERROR, 'failed sticks')
  t.equal(s?.statusReason, 'refused (479)')
  t.same(s?.failedAt, at(2))

  await store.save('c1', msg('M3', 'x'), { status: Status.SERVER_ACK, at: at(1) })
  await store.save('c1', msg('M4', 'x'), { status: Status.SERVER_ACK, at: at(1) })
  await store.updateStatus('c1', [
    { id: 'M3', status: Status.DELIVERY_ACK, at: at(2) },
    { id: 'M4', status: Status.READ, at: at(3) },
    { id: 'M3', status: Status.READ, at: at(4) },
    { id: 'M2', status: Status.READ, at: at(4) },
  ])
  t.match(await store.get('c1', 'M3'), { status: Status.READ, deliveredAt: at(2) }, 'a burst of receipts in one call')
  t.match(await store.get('c1', 'M4'), { status: Status.READ, readAt: at(3), deliveredAt: at(3) })
  t.equal((await store.get('c1', 'M2'))?.status, Status.ERROR, 'failed still sticks in a burst')

  await store.save('c1', msg('M1', 'replaced?'), { status: Status.PENDING, at: at(9) })
  t.equal((await store.get('c1', 'M1'))?.message.message?.conversation, 'secret words', 'a second save keeps the first content')
  await store.updateStatus('c1', [{ id: 'UNKNOWN', status: Status.READ, at: at(1) }])
  t.equal(await store.get('c1', 'UNKNOWN'), null)
  t.ok((await store.purge(new Date(Date.now() + 60_000))) >= 4, 'purge removes what is older than the cutoff')
  t.equal(await store.get('c1', 'M1'), null)
}

async function idempotencyBehaviour(t: Test, store: IdempotencyStore, expireLock: (scope: string) => Promise<void>, expireKey: (scope: string) => Promise<void>) {
  const scope = 'a'.repeat(64)
  const fp = 'f'.repeat(64)
  t.same(await store.claim(scope, 'c1', fp, 'ID1'), { kind: 'new', messageId: 'ID1' })
  t.same(await store.claim(scope, 'c1', fp, 'ID2'), { kind: 'in_flight', messageId: 'ID1' }, 'in flight, with the id its message goes under')
  t.same(await store.claim(scope, 'c1', 'e'.repeat(64), 'ID2'), { kind: 'mismatch' })
  await expireLock(scope)
  t.same(await store.claim(scope, 'c1', fp, 'ID3'), { kind: 'takeover', messageId: 'ID1' }, 'an abandoned claim is taken over with its message id')
  await store.complete({ scope, clientId: 'c1', fingerprint: fp, messageId: 'ID1' }, { status: 200, body: { messageId: 'ID1', to: '15550002222@s.whatsapp.net' } })
  t.same(await store.claim(scope, 'c1', fp, 'ID4'), { kind: 'replay', answer: { status: 200, body: { messageId: 'ID1', to: '15550002222@s.whatsapp.net' } } })
  await expireKey(scope)
  t.same(await store.claim(scope, 'c1', fp, 'ID5'), { kind: 'new', messageId: 'ID5' }, 'after 24 h the key is new again')
  await store.release({ scope, clientId: 'c1', fingerprint: fp, messageId: 'ID5' })
  t.same(await store.claim(scope, 'c1', fp, 'ID6'), { kind: 'new', messageId: 'ID6' }, 'released: runs again')
}

async function queueBehaviour(t: Test, queue: QueueStore) {
  for (const n of [1, 2, 3]) await queue.enqueue('c1', `Q${n}`, { type: 'text', to: '+15550002222', text: `q${n}` })
  await queue.enqueue('c1', 'Q1', { type: 'text', to: '+15550002222', text: 'duplicate' })
  t.equal(await queue.waiting('c1'), 3)
  t.same(await queue.withWork(['c1', 'c2']), ['c1'])
  const first = await queue.claim('c1')
  t.equal(first?.messageId, 'Q1')
  t.same(first?.request, { type: 'text', to: '+15550002222', text: 'q1' })
  t.equal(await queue.claim('c1'), null, 'nothing overtakes an entry being sent')
  await queue.unclaim('c1', first?.seq ?? 0)
  const again = await queue.claim('c1')
  t.equal(again?.messageId, 'Q1', 'an unclaimed entry is first again')
  await queue.done('c1', again?.seq ?? 0)
  const second = await queue.claim('c1')
  t.equal(second?.messageId, 'Q2')
  await queue.fail('c1', second?.seq ?? 0, 'SEND_FAILED: no')
  t.match(await queue.get('c1', 'Q2'), { state: 'failed', error: 'SEND_FAILED: no' })
  t.equal((await queue.claim('c1'))?.messageId, 'Q3', 'a failed entry does not hold the line')
  t.equal(await queue.get('c1', 'Q1'), null, 'a sent entry is gone')
}


t.test('Postgres', async (t) => {
  const { sql } = await createMigratedDatabase(t, 'wa_msg')
  for (const id of ['c1', 'c2']) await sql`INSERT INTO whatsapp_sessions (client_id) VALUES (${id})`
  t.test('message store', (t) => messageStoreBehaviour(t, createPostgresMessageStore({ sql, sealer }), async () =>
    JSON.stringify(await sql`SELECT * FROM whatsapp_messages`)))
  t.test('idempotency keys', (t) => idempotencyBehaviour(t, createPostgresIdempotencyStore({ sql, sealer }),
    async (scope) => { await sql`UPDATE whatsapp_idempotency_keys SET locked_until = now() - interval '1 second' WHERE scope = ${scope}` },
    async (scope) => { await sql`UPDATE whatsapp_idempotency_keys SET expires_at = now() - interval '1 second' WHERE scope = ${scope}` }))
  t.test('queue', (t) => queueBehaviour(t, createPostgresQueueStore({ sql, sealer })))
  t.test('a deleted session takes its messages and queue with it', async (t) => {
    const store = createPostgresMessageStore({ sql, sealer })
    await store.save('c2', msg('D1', 'x'), { status: 2, at: at(1) })
    await createPostgresQueueStore({ sql, sealer }).enqueue('c2', 'D2', { type: 'text', to: '+1555', text: 'x' })
    await sql`DELETE FROM whatsapp_sessions WHERE client_id = 'c2'`
    t.equal(await store.get('c2', 'D1'), null)
    t.same(await sql`SELECT 1 FROM whatsapp_message_queue WHERE client_id = 'c2'`, [])
  })
})

t.test('Postgres: saves made while one is in flight go out as one statement; a repeat in the batch moves the status', async (t) => {
  const { url } = await createMigratedDatabase(t, 'wa_msg_batch')
  const counter = queryCounter()
  const sql = createSql(url, { max: 2, debug: counter.debug })
  t.teardown(() => sql.end({ timeout: 1 }))
  await sql`INSERT INTO whatsapp_sessions (client_id) VALUES ('c1'), ('c2')`
  const store = createPostgresMessageStore({ sql, sealer })
  await store.save('c1', msg('B0', 'first'), { status: Status.SERVER_ACK, at: at(1) })
  counter.reset()
  // B0 is in flight again while nine more arrive, one of them B5 twice (stored, then delivered).
  await Promise.all([
    store.save('c1', msg('B0', 'again'), { status: Status.SERVER_ACK, at: at(2) }),
    ...Array.from({ length: 8 }, (_, i) => store.save(i % 2 ? 'c1' : 'c2', msg(`B${i + 1}`, `text ${i + 1}`, i % 3 === 0), { status: Status.SERVER_ACK, at: at(2) })),
    store.save('c2', msg('B5', 'text 5'), { status: Status.DELIVERY_ACK, at: at(3) }),
  ])
  const inserts = counter.queries.filter((q) => /insert into whatsapp_messages/i.test(q))
  t.equal(inserts.length, 2, `the first save, then the nine queued meanwhile together (${inserts.length} INSERTs)`)
  for (let i = 1; i <= 8; i++) {
    const got = await store.get((i - 1) % 2 ? 'c1' : 'c2', `B${i}`)
    t.equal(got?.message.message?.conversation, `text ${i}`)
    t.equal(got?.fromMe, (i - 1) % 3 === 0)
  }
  const b5 = await store.get('c2', 'B5')
  t.equal(b5?.status, Status.DELIVERY_ACK, 'the repeat of B5 in the same batch moved its status on')
  t.same(b5?.sentAt, at(2))
  t.same(b5?.deliveredAt, at(3))
  t.equal((await store.get('c1', 'B0'))?.message.message?.conversation, 'first', 'a message stored before stays as it was')
})

/** A Postgres idempotency store on a fresh database, its statements counted, its timers on a manual clock. */
async function countedIdempotencyStore(t: Test, name: string) {
  const { url } = await createMigratedDatabase(t, name)
  const counter = queryCounter()
  const sql = createSql(url, { max: 2, debug: counter.debug })
  t.teardown(() => sql.end({ timeout: 1 }))
  const clock = createManualClock()
  return { counter, clock, store: createPostgresIdempotencyStore({ sql, sealer, clock }) }
}
const FP = 'f'.repeat(64)
/** A scope (64 characters, as the server derives them) per short name. */
const k = (name: string) => name.padStart(64, '0')
/** The claim of key `name` (by client c1, fingerprint FP) with this message id. */
const held = (name: string, messageId: string) => ({ scope: k(name), clientId: 'c1', fingerprint: FP, messageId })

t.test('Postgres: concurrent claims and answers of idempotency keys go out in batches; one claim per key wins', async (t) => {
  const { counter, clock, store } = await countedIdempotencyStore(t, 'wa_idem_batch')
  await store.claim(k('k0'), 'c1', FP, 'M0')
  counter.reset()
  // k0 is claimed again while eight new keys arrive, k3 three times (a client retrying at once).
  const claims = await Promise.all([
    store.claim(k('k0'), 'c1', FP, 'M0b'),
    ...Array.from({ length: 8 }, (_, i) => store.claim(k(`k${i + 1}`), 'c1', FP, `M${i + 1}`)),
    store.claim(k('k3'), 'c1', FP, 'M3b'),
    store.claim(k('k3'), 'c1', FP, 'M3c'),
  ])
  t.same(claims.map((c) => c.kind), ['in_flight', 'new', 'new', 'new', 'new', 'new', 'new', 'new', 'new', 'in_flight', 'in_flight'], 'one claim per key wins')
  const writes = () => counter.queries.filter((q) => /insert into whatsapp_idempotency_keys|update whatsapp_idempotency_keys k set state = 'done'/i.test(q)).length
  t.ok(writes() >= 1 && writes() <= 3, `claims batched: ${writes()} statements for 11 claims`)
  counter.reset()
  const answering = Promise.all(Array.from({ length: 8 }, (_, i) => store.complete(held(`k${i + 1}`, `M${i + 1}`), { status: 200, body: { messageId: `M${i + 1}` } })))
  t.equal(writes(), 0, 'answers gather before they are written')
  clock.advance(ANSWER_GATHER_MS)
  await answering
  t.equal(writes(), 1, 'the eight answers in one statement')
  for (let i = 1; i <= 8; i++) t.same(await store.claim(k(`k${i}`), 'c1', FP, 'X'), { kind: 'replay', answer: { status: 200, body: { messageId: `M${i}` } } })
})

t.test('Postgres: gathered answers ride with the next claim statement', async (t) => {
  const { counter, clock, store } = await countedIdempotencyStore(t, 'wa_idem_ride')
  for (const name of ['a', 'b']) t.equal((await store.claim(k(name), 'c1', FP, `M${name}`)).kind, 'new')
  counter.reset()
  const answered = [store.complete(held('a', 'Ma'), { status: 200, body: { messageId: 'Ma' } }), store.complete(held('b', 'Mb'), { status: 202, body: { messageId: 'Mb' } })]
  const fresh = await store.claim(k('c'), 'c1', FP, 'Mc')
  await Promise.all(answered)
  t.equal(counter.queries.filter((q) => /insert into whatsapp_idempotency_keys/i.test(q)).length, 1, 'one statement for two answers and a claim')
  t.same(clock.pending(), [], 'the answers no longer wait for their window')
  t.same(fresh, { kind: 'new', messageId: 'Mc' })
  // A repeat of a key whose answer goes out in the same statement replays it rather than claiming.
  const late = store.complete(held('c', 'Mc'), { status: 200, body: { messageId: 'Mc' } })
  t.same(await store.claim(k('c'), 'c1', FP, 'X'), { kind: 'replay', answer: { status: 200, body: { messageId: 'Mc' } } })
  await late
  t.same(await store.claim(k('a'), 'c1', FP, 'X'), { kind: 'replay', answer: { status: 200, body: { messageId: 'Ma' } } })
})

t.test('files', async (t) => {
  const dir = await tempDir(t)
  const rawFiles = async () => {
    const out: string[] = []
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        if (e.isDirectory()) await walk(join(d, e.name))
        else out.push(await readFile(join(d, e.name), 'utf8'))
      }
    }
    await walk(dir)
    return out.join('\n')
  }
  t.test('message store', (t) => messageStoreBehaviour(t, createFileMessageStore({ dir, sealer }), rawFiles))
  let now = Date.UTC(2025, 0, 1)
  const idem = createFileIdempotencyStore({ dir, sealer, now: () => now })
  t.test('idempotency keys', (t) => idempotencyBehaviour(t, idem,
    async () => { now += IDEMPOTENCY_LOCK_MS + 1 },
    async () => { now += IDEMPOTENCY_TTL_MS + 1 }))
  t.test('queue', (t) => queueBehaviour(t, createFileQueueStore({ dir, sealer })))
})

/**
 * The message store and the idempotency store on one shared writer (as the server wires them), on a
 * fresh database with session c1, their statements counted, their timers on a manual clock.
 */
async function sharedWriter(t: Test, name: string, sendsUnderWay?: () => number) {
  const { url } = await createMigratedDatabase(t, name)
  const counter = queryCounter()
  const sql = createSql(url, { max: 2, debug: counter.debug })
  t.teardown(() => sql.end({ timeout: 1 }))
  await sql`INSERT INTO whatsapp_sessions (client_id) VALUES ('c1')`
  const clock = createManualClock()
  const writes = createSendWrites({ sql, clock, sendsUnderWay })
  return {
    counter,
    clock,
    writes,
    store: createPostgresMessageStore({ sql, sealer, writes }),
    keys: createPostgresIdempotencyStore({ sql, sealer, writes, clock }),
    /** The statements that wrote message rows or idempotency keys. */
    statements: () => counter.queries.filter((q) => /insert into whatsapp_messages|insert into whatsapp_idempotency_keys/i.test(q)),
  }
}

t.test('Postgres: a claim and a message row waiting at the same time share one statement', async (t) => {
  const { counter, store, keys, statements } = await sharedWriter(t, 'wa_send_writes')
  counter.reset()
  // The first save is in flight while a claim and a second save arrive: those two go out together.
  const [, claimed] = await Promise.all([
    store.save('c1', msg('S1', 'one'), { status: Status.SERVER_ACK, at: at(1) }),
    keys.claim(k('s'), 'c1', FP, 'S2'),
    store.save('c1', msg('S3', 'three'), { status: Status.SERVER_ACK, at: at(1) }),
  ])
  t.same(claimed, { kind: 'new', messageId: 'S2' })
  const written = statements()
  t.equal(written.length, 2, `a statement for the first save, one for the claim and the second save (${written.length})`)
  t.match(written[1], /insert into whatsapp_idempotency_keys[\s\S]*insert into whatsapp_messages/i, 'the second carries both')
  t.equal((await store.get('c1', 'S3'))?.message.message?.conversation, 'three')
  t.same(await keys.claim(k('s'), 'c1', FP, 'X'), { kind: 'in_flight', messageId: 'S2' }, 'the claim holds')
})

t.test('Postgres: while other sends are under way, a statement waits LINGER_MS for their claims and rows', async (t) => {
  let underWay = 3
  const { counter, clock, store, keys, statements } = await sharedWriter(t, 'wa_send_linger', () => underWay)
  counter.reset()
  const first = store.save('c1', msg('L1', 'one'), { status: Status.SERVER_ACK, at: at(1) })
  t.same(clock.pending(), [LINGER_MS], 'the statement waits')
  const claimed = keys.claim(k('linger'), 'c1', FP, 'L2')
  const third = store.save('c1', msg('L3', 'three'), { status: Status.SERVER_ACK, at: at(1) })
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(statements().length, 0, 'nothing sent while it waits')
  clock.advance(LINGER_MS)
  await Promise.all([first, third])
  t.same(await claimed, { kind: 'new', messageId: 'L2' })
  t.equal(statements().length, 1, 'one statement for two rows and a claim')
  t.match(statements()[0], /insert into whatsapp_idempotency_keys[\s\S]*insert into whatsapp_messages/i)
  t.equal((await store.get('c1', 'L3'))?.message.message?.conversation, 'three')

  underWay = 1
  counter.reset()
  await store.save('c1', msg('L4', 'four'), { status: Status.SERVER_ACK, at: at(1) })
  t.same(clock.pending(), [], 'a lone send does not wait')
  t.equal(statements().length, 1)
})

t.test('Postgres: a plain success whose message row this process created is not written to its key', async (t) => {
  const { counter, clock, writes, store, keys } = await sharedWriter(t, 'wa_idem_recorded')
  const answersWritten = () => counter.queries.filter((q) => /done AS \(/.test(q)).length
  const complete = async (name: string, id: string, answer: { status: number; body: unknown }, recorded: boolean) => {
    const done = keys.complete(held(name, id), answer, { recorded })
    clock.advance(ANSWER_GATHER_MS)
    await done
  }

  t.equal((await keys.claim(k('sent'), 'c1', FP, 'R1')).kind, 'new')
  await store.save('c1', msg('R1', 'one'), { status: Status.SERVER_ACK, at: at(1) })
  counter.reset()
  await complete('sent', 'R1', { status: 200, body: { messageId: 'R1' } }, true)
  t.equal(answersWritten(), 0, 'its message row answers for it: no write')
  t.same(await keys.claim(k('sent'), 'c1', FP, 'X'), { kind: 'in_flight', messageId: 'R1' }, 'a repeat finds the claim, with the id to look up')

  // The same answer, but the row was not created by this process (a takeover found it): written.
  t.equal((await keys.claim(k('found'), 'c1', FP, 'R2')).kind, 'new')
  await complete('found', 'R2', { status: 200, body: { messageId: 'R2' } }, true)
  t.equal(answersWritten(), 1, 'no row created here: the answer is written')
  t.equal((await keys.claim(k('found'), 'c1', FP, 'X')).kind, 'replay')

  // A row created here, but an answer the message cannot give (an error kept after the send): written.
  t.equal((await keys.claim(k('error'), 'c1', FP, 'R3')).kind, 'new')
  await store.save('c1', msg('R3', 'three'), { status: Status.PENDING, at: at(1) })
  await complete('error', 'R3', { status: 504, body: { code: 'SEND_NOT_ACKNOWLEDGED' } }, false)
  t.equal(answersWritten(), 2)
  t.same(await keys.claim(k('error'), 'c1', FP, 'X'), { kind: 'replay', answer: { status: 504, body: { code: 'SEND_NOT_ACKNOWLEDGED' } } })

  // A message saved without a key claimed here leaves nothing watched behind.
  await store.save('c1', msg('R4', 'four'), { status: Status.SERVER_ACK, at: at(1) })
  t.notOk(writes.settle(held('none', 'R4')), 'an unclaimed message is not watched')
})

t.test('Postgres: an answer finds its key by the index, never by scanning the table', async (t) => {
  const { url } = await createMigratedDatabase(t, 'wa_idem_scan')
  // One connection: its statements' plans are cached from the first ones, while the table is small.
  const sql = createSql(url, { max: 1 })
  t.teardown(() => sql.end({ timeout: 1 }))
  const clock = createManualClock()
  const store = createPostgresIdempotencyStore({ sql, sealer, clock })
  for (let i = 0; i < 300; i++) {
    t.equal((await store.claim(k(`scan${i}`), 'c1', FP, `M${i}`)).kind, 'new')
    const answered = store.complete(held(`scan${i}`, `M${i}`), { status: 200, body: { i } })
    clock.advance(ANSWER_GATHER_MS)
    await answered
  }
  t.same(await store.claim(k('scan299'), 'c1', FP, 'X'), { kind: 'replay', answer: { status: 200, body: { i: 299 } } })
  await sql`SELECT pg_stat_force_next_flush()`
  await sql`SELECT pg_stat_clear_snapshot()`
  const [row] = await sql<{ read: string }[]>`SELECT seq_tup_read::text AS read FROM pg_stat_user_tables WHERE relname = 'whatsapp_idempotency_keys'`
  t.equal(row.read, '0', 'no row of the table was read by a scan')
})

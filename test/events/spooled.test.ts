// The spool in front of the Postgres outbox, with the database cut by a TCP proxy and time on a
// manual clock: appends during the cut are fsynced locally and resolve; once the database is back the
// drainer moves them in arrival order (gap-free seq, ids kept), later appends queue behind them, a new
// instance drains what an earlier one left, and nothing is stored twice across spool and Postgres.
import t, { type Test } from 'tap'
import pino from 'pino'
import { appendFile, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createSql } from '../../src/db/index.js'
import { EVENT_ID_PATTERN } from '../../src/events/ids.js'
import { createPostgresOutbox } from '../../src/events/store/postgres.js'
import { createSpooledOutbox, type SpooledOutbox } from '../../src/events/store/spooled.js'
import type { NewEvent, StoredEvent } from '../../src/events/types.js'
import { ADMIN_URL, createMigratedDatabase } from '../helpers/db.js'
import { createManualClock, eventually, type ManualClock } from '../helpers/manual-clock.js'
import { createTcpProxy } from '../helpers/tcp-proxy.js'
import { tempDir } from '../helpers/temp-dir.js'

const TIMEOUT_MS = 3000
// Retry delays of the drainer fall in [5 s, 10 s]: never the 3 s of a pending append's time bound.
const BACKOFF = { baseMs: 10_000, maxMs: 10_000 }

const ev = (n: number, dedupeKey?: string): NewEvent => ({
  type: 'message.received',
  timestamp: new Date(Date.UTC(2025, 0, 1, 0, 0, n % 60)).toISOString(),
  data: { n },
  ...(dedupeKey ? { dedupeKey } : {}),
})

interface Row { seq: number; id: string; n: number }

async function setup(t: Test) {
  const { url, sql: direct } = await createMigratedDatabase(t, 'wa_spool')
  const admin = new URL(ADMIN_URL)
  const proxy = await createTcpProxy({ target: { host: admin.hostname, port: Number(admin.port || 5432) } })
  t.teardown(() => proxy.close())
  const sql = createSql(proxy.url(url), { max: 2 })
  t.teardown(() => sql.end({ timeout: 1 }))
  const clock = createManualClock()
  const dir = join(await tempDir(t), '.events-spool')
  // A pool of its own for an instance that dies (kill -9): what it still had queued never reaches Postgres.
  const doomedSql = () => createSql(proxy.url(url), { max: 2 })
  const open = async (pool = sql): Promise<SpooledOutbox> => {
    const outbox = createSpooledOutbox({ outbox: createPostgresOutbox({ sql: pool }), dir, timeoutMs: TIMEOUT_MS, clock, log: pino({ level: 'silent' }), backoff: BACKOFF })
    await outbox.start()
    return outbox
  }
  const rows = async (clientId = 'c'): Promise<Row[]> =>
    (await direct<{ seq: string; id: string; n: number }[]>`SELECT seq, id, (data->>'n')::int AS n FROM whatsapp_events WHERE client_id = ${clientId} ORDER BY seq`)
      .map((r) => ({ seq: Number(r.seq), id: r.id, n: r.n }))
  const spoolFile = join(dir, 'c.jsonl')
  const spoolLines = async () => (await readFile(spoolFile, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as NewEvent & { id: string })
  const files = async () => readdir(dir).catch(() => [])
  return { direct, proxy, clock, dir, open, doomedSql, rows, spoolFile, spoolLines, files }
}

/** Waits on real I/O for the check, moving the manual clock on (time bounds, backoff) between tries. */
function driving<T>(clock: ManualClock, what: string, check: () => T | Promise<T>): Promise<NonNullable<T>> {
  return eventually(what, async () => {
    const value = await check()
    if (!value) clock.advance(BACKOFF.maxMs)
    return value as NonNullable<T>
  })
}

/** Settles the promise, moving the clock on while it waits (an append bounded by the clock). */
async function settle<T>(clock: ManualClock, work: Promise<T>): Promise<T> {
  let done = false
  const result = work.finally(() => { done = true })
  await driving(clock, 'the work settles', () => done)
  return result
}

/** The drainer failed and waits for its retry timer: no drain is under way. */
const backingOff = (clock: ManualClock) => driving(clock, 'the drainer backs off', () => clock.pending().some((ms) => ms > TIMEOUT_MS))

const seqs = (events: StoredEvent[]) => events.map((e) => e.seq)
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

for (const mode of ['refuse', 'blackhole'] as const) t.test(`database cut (${mode}): appends go to the spool, then drain in order behind which later appends queue`, async (t) => {
  const { proxy, clock, open, rows, spoolLines, files } = await setup(t)
  const outbox = await open()
  const woken: StoredEvent[] = []
  outbox.subscribe((events) => woken.push(...events))

  t.same(seqs(await outbox.append('c', [ev(1, 'k1')])), [1], 'healthy: straight into Postgres, numbered')
  proxy.cut(mode)
  let resolved = false
  const during = Promise.all(range(2, 21).map((n) => outbox.append('c', [ev(n)]))).finally(() => { resolved = true })
  if (mode === 'blackhole') {
    await eventually('the append waits for the database', () => clock.pending().includes(TIMEOUT_MS))
    t.notOk(resolved, 'waits up to the time bound')
  }
  const results = await settle(clock, during)
  t.same(results.flat(), [], 'resolved, with nothing numbered yet')
  t.equal(outbox.spooled(), 20, 'all 20 on local disk')
  const spooled = await spoolLines()
  t.same(spooled.map((e) => e.data.n), range(2, 21), 'in arrival order')
  t.ok(spooled.every((e) => new RegExp(EVENT_ID_PATTERN).test(e.id)), 'each with its event id')
  t.same((await rows()).map((r) => r.n), [1], 'nothing in Postgres')

  await backingOff(clock)
  proxy.restore()
  t.same(await outbox.append('c', [ev(22, 'k22')]), [], 'the database is back, but the spool is not drained: queued behind it')
  t.same((await rows()).map((r) => r.n), [1], 'not in Postgres before the spool')
  t.equal(outbox.spooled(), 21)

  const drained = await driving(clock, 'the spool is drained', async () => ((await rows()).length === 22 && (await files()).length === 0 ? rows() : null))
  t.same(drained.map((r) => r.seq), range(1, 22), 'seq without gaps')
  t.same(drained.map((r) => r.n), range(1, 22), 'seq order is arrival order')
  t.same(drained.slice(1).map((r) => r.id), [...spooled.map((e) => e.id), drained[21].id], 'Postgres kept the ids the spool gave')
  t.equal(outbox.spooled(), 0)
  t.same(woken.map((e) => e.seq), range(1, 22), 'subscribers told of each event once, in order, when numbered')
  t.same(seqs(await outbox.append('c', [ev(23)])), [23], 'drained: straight into Postgres again')
  t.equal(await outbox.lastSeq('c'), 23)
  t.same((await outbox.after('c', 20, 10)).map((e) => e.data.n), [21, 22, 23], 'reads come from Postgres')
  await outbox.close()
})

t.test('a new instance drains what an earlier one left (kill -9 during an outage, a torn last line)', async (t) => {
  const { proxy, clock, open, doomedSql, rows, spoolFile, files } = await setup(t)
  const pool = doomedSql()
  const first = await open(pool)
  proxy.cut()
  await settle(clock, first.append('c', [ev(1), ev(2, 'k2')]))
  await settle(clock, first.append('other', [ev(9)]))
  await settle(clock, first.append('c', [ev(3)]))
  await backingOff(clock)
  await first.close()
  await pool.end({ timeout: 0 })
  await appendFile(spoolFile, '{"id":"evt_01","type":"message.rec')
  proxy.restore()

  const second = await open()
  const woken: StoredEvent[] = []
  second.subscribe((events) => woken.push(...events))
  await eventually('drained at start-up', async () => (await files()).length === 0)
  t.same((await rows()).map((r) => [r.seq, r.n]), [[1, 1], [2, 2], [3, 3]], 'in order, the torn line dropped')
  t.same((await rows('other')).map((r) => [r.seq, r.n]), [[1, 9]], 'every session')
  t.same(woken.map((e) => [e.clientId, e.seq]).sort(), [['c', 1], ['c', 2], ['c', 3], ['other', 1]], 'published once drained')
  await second.close()
})

t.test('dedupe across spool and Postgres: keys stored earlier, a timed-out append that committed after all, a drain repeated after a crash', async (t) => {
  const { direct, proxy, clock, open, doomedSql, rows, spoolFile, spoolLines, files } = await setup(t)
  const pool = doomedSql()
  const first = await open(pool)
  t.same(seqs(await first.append('c', [ev(1, 'a')])), [1])
  proxy.cut()
  await settle(clock, first.append('c', [ev(2, 'a'), ev(3, 'b'), ev(4)]))
  await backingOff(clock)
  await first.close()
  await pool.end({ timeout: 0 })
  const spooled = await spoolLines()
  t.same(spooled.map((e) => e.data.n), [2, 3, 4], 'the spool does not know what Postgres holds')
  const copy = await readFile(spoolFile, 'utf8')
  // The statement that timed out reached Postgres after all, for the keyless event: same id.
  await createPostgresOutbox({ sql: direct }).append('c', [spooled[2]])
  proxy.restore()

  const second = await open()
  await eventually('drained', async () => (await files()).length === 0)
  const after = await rows()
  t.same(after.map((r) => [r.seq, r.n]), [[1, 1], [2, 4], [3, 3]], 'a stored key and an id already stored are skipped, no gap')
  t.equal(after[1].id, spooled[2].id, 'stored once under its spool id')
  await second.close()

  // Killed after the drain, before the file was removed: the next start drains it again, harmlessly.
  await writeFile(spoolFile, copy)
  const third = await open()
  await eventually('drained again', async () => (await files()).length === 0)
  t.same(await rows(), after, 'nothing stored twice')
  t.equal(await third.lastSeq('c'), 3)
  await third.close()
})

t.test('the database refusing the events is not an outage: the append fails, nothing is spooled', async (t) => {
  const { direct, open, files } = await setup(t)
  const outbox = await open()
  await direct.unsafe(`ALTER TABLE whatsapp_events ADD CONSTRAINT refuse_received CHECK (type <> 'message.received') NOT VALID`)
  await t.rejects(outbox.append('c', [ev(1)]), { code: '23514' })
  t.same(await files(), [], 'no spool')
  t.equal(outbox.spooled(), 0)
  await outbox.close()
})

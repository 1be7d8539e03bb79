// The event outbox in its two implementations (Postgres, files) against the same expectations:
// per-session order, seq without gaps under concurrent appends (also when some are dedupe skips),
// dedupe across appends, recovery after a restart, subscribers, purge that keeps the numbering.
// File mode also: a torn last line after kill -9 is cut off.
import t, { type Test } from 'tap'
import { appendFile, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createPostgresOutbox } from '../../src/events/store/postgres.js'
import { createFileOutbox } from '../../src/events/store/file.js'
import { EVENT_ID_PATTERN } from '../../src/events/ids.js'
import type { EventOutbox, NewEvent, StoredEvent } from '../../src/events/types.js'
import { createMigratedDatabase } from '../helpers/db.js'
import { tempDir } from '../app/helpers.js'

const ev = (n: number, dedupeKey?: string): NewEvent => ({
  type: 'message.received',
  timestamp: new Date(Date.UTC(2025, 0, 1, 0, 0, n % 60)).toISOString(),
  data: { n, text: `message ${n}`, nested: { ok: true } },
  ...(dedupeKey ? { dedupeKey } : {}),
})

const seqs = (events: StoredEvent[]) => events.map((e) => e.seq)
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

async function behaviour(t: Test, open: () => Promise<EventOutbox>) {
  const outbox = await open()
  const woken: StoredEvent[][] = []
  const unsubscribe = outbox.subscribe((events) => woken.push(events))

  t.equal(await outbox.lastSeq('c1'), 0, 'no events yet')
  const first = await outbox.append('c1', [ev(1), ev(2, 'k2'), ev(3)])
  t.same(seqs(first), [1, 2, 3], 'numbered from 1, in order')
  t.match(first[0], { type: 'message.received', clientId: 'c1', timestamp: ev(1).timestamp, data: ev(1).data })
  t.ok(first.every((e) => new RegExp(EVENT_ID_PATTERN).test(e.id)), 'evt_ ids')
  t.equal(new Set(first.map((e) => e.id)).size, 3, 'distinct ids')
  t.same(woken, [first], 'subscribers told once, with what was stored')

  t.same(await outbox.append('c1', [ev(4, 'k2'), ev(5, 'k5'), ev(6, 'k5')]).then(seqs), [4], 'stored keys and repeats in the batch are skipped, no gap')
  t.same(await outbox.append('c1', [ev(7, 'k2')]), [], 'a batch of duplicates stores nothing')
  t.equal(woken.length, 2, 'nothing stored: nobody woken')
  t.same(seqs(await outbox.append('c2', [ev(1)])), [1], 'each session has its own sequence')

  // Concurrent appends: 40 batches, a third repeating keys of others; the numbering has no gap.
  const batches = Array.from({ length: 40 }, (_, i) => [ev(100 + i, `c${i % 27}`), ev(200 + i)])
  const results = await Promise.all(batches.map((b) => outbox.append('c1', b)))
  const all = results.flat().sort((a, b) => a.seq - b.seq)
  t.same(seqs(all), range(5, 5 + 27 + 40 - 1), '27 distinct keys + 40 plain events, numbered 5.. without gap')
  for (const r of results) t.same(seqs(r), [...seqs(r)].sort((a, b) => a - b), 'each batch in order')
  t.equal(await outbox.lastSeq('c1'), 71)

  const page = await outbox.after('c1', 2, 3)
  t.same(seqs(page), [3, 4, 5], 'after: seq > afterSeq, oldest first, at most limit')
  t.same(seqs(await outbox.after('c1', 71, 10)), [], 'nothing after the last')
  t.same((await outbox.after('c1', 0, 1000)).length, 71)
  t.same(await outbox.after('nobody', 0, 10), [])
  unsubscribe()
  await outbox.append('c1', [ev(8)])
  t.equal(woken.length, 3 + results.filter((r) => r.length > 0).length, 'one wake-up per append that stored something; none once unsubscribed')
  await outbox.close()

  const again = await open()
  t.equal(await again.lastSeq('c1'), 72, 'the last seq survives a restart')
  t.same(await again.append('c1', [ev(9, 'k5'), ev(10, 'k10')]).then(seqs), [73], 'and the dedupe keys')
  t.same((await again.after('c1', 71, 10)).map((e) => e.data), [ev(8).data, ev(10).data], 'the events read back as appended')
  t.equal(await again.purge(new Date(Date.now() - 3_600_000)), 0, 'nothing older than an hour')
  t.equal(await again.purge(new Date(Date.now() + 60_000)), 73 + 1, 'everything older than a minute from now')
  t.same(await again.after('c1', 0, 100), [], 'purged')
  t.equal(await again.lastSeq('c1'), 73, 'the numbering is kept')
  t.same(seqs(await again.append('c1', [ev(11)])), [74], 'and continues')
  await again.close()
  const third = await open()
  t.equal(await third.lastSeq('c1'), 74, 'also after a restart following a purge')
  t.same(seqs(await third.after('c1', 0, 10)), [74])
  await third.close()
}

t.test('Postgres outbox', async (t) => {
  const { sql } = await createMigratedDatabase(t, 'wa_events')
  await behaviour(t, async () => createPostgresOutbox({ sql }))
  const [{ n }] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM whatsapp_events WHERE client_id = 'c1'`
  t.equal(n, 1)
})

t.test('Postgres: concurrent appends of the same dedupe keys store each once, without a gap', async (t) => {
  const { sql } = await createMigratedDatabase(t, 'wa_events')
  const outbox = createPostgresOutbox({ sql })
  const results = await Promise.all(Array.from({ length: 30 }, (_, i) => outbox.append('c', [ev(i, `same-${i % 3}`), ev(i, `own-${i}`)])))
  const all = results.flat().sort((a, b) => a.seq - b.seq)
  t.same(seqs(all), range(1, 33), '3 shared keys + 30 own keys')
  const rows = await sql<{ seq: string }[]>`SELECT seq FROM whatsapp_events WHERE client_id = 'c' ORDER BY seq`
  t.same(rows.map((r) => Number(r.seq)), range(1, 33))
})

t.test('file outbox', async (t) => {
  const dir = join(await tempDir(t), '.events')
  await behaviour(t, async () => createFileOutbox({ dir }))
  t.same((await readdir(dir)).sort(), ['c1.jsonl', 'c2.jsonl'], 'reading a session without events creates no file')
})

t.test('file outbox: a torn last line (kill -9 mid-write) is cut off; the file stays appendable', async (t) => {
  const dir = join(await tempDir(t), '.events')
  const outbox = createFileOutbox({ dir })
  await outbox.append('s', [ev(1, 'a'), ev(2, 'b')])
  await outbox.close()
  const path = join(dir, 's.jsonl')
  const good = await readFile(path, 'utf8')
  await appendFile(path, '{"id":"evt_01","type":"message.rec')
  const reopened = createFileOutbox({ dir })
  t.equal(await reopened.lastSeq('s'), 2)
  t.same(seqs(await reopened.append('s', [ev(3, 'c'), ev(4, 'b')])), [3])
  const text = await readFile(path, 'utf8')
  t.ok(text.startsWith(good), 'the complete lines kept')
  t.equal(text.split('\n').filter(Boolean).length, 3, 'the torn line gone')
  t.doesNotThrow(() => text.split('\n').filter(Boolean).map((l) => JSON.parse(l)), 'every line is JSON')
  await reopened.close()
})

t.test('file outbox: purge by the time each event was stored; concurrent appends share one write', async (t) => {
  const dir = join(await tempDir(t), '.events')
  let now = new Date(Date.UTC(2025, 0, 1))
  const outbox = createFileOutbox({ dir, now: () => now })
  await outbox.append('s', [ev(1), ev(2)])
  now = new Date(Date.UTC(2025, 0, 2))
  await Promise.all([outbox.append('s', [ev(3)]), outbox.append('s', [ev(4)]), outbox.append('s', [ev(5)])])
  t.equal(await outbox.purge(new Date(Date.UTC(2025, 0, 1, 12))), 2, 'the two older events')
  t.same(seqs(await outbox.after('s', 0, 10)), [3, 4, 5])
  await outbox.close()
  await writeFile(join(dir, 'notes.txt'), 'not an event file')
  const reopened = createFileOutbox({ dir, now: () => now })
  t.same(seqs(await reopened.after('s', 0, 10)), [3, 4, 5], 'after a restart')
  t.equal(await reopened.purge(new Date(Date.UTC(2025, 0, 1, 12))), 0, 'other files ignored')
  await reopened.close()
})

t.test('an id given by the caller (the spool) is kept, and stored once', async (t) => {
  const { sql } = await createMigratedDatabase(t, 'wa_events')
  const dir = join(await tempDir(t), '.events')
  for (const [name, outbox] of [['Postgres', createPostgresOutbox({ sql })], ['file', createFileOutbox({ dir })]] as const) {
    const id = 'evt_01JD7X2K4M8Q9R3S5T6V7W8X9Y'
    const first = await outbox.append('s', [{ ...ev(1), id }, ev(2)])
    t.same(first.map((e) => [e.seq, e.id === id]), [[1, true], [2, false]], `${name}: kept`)
    t.same(await outbox.append('s', [{ ...ev(1), id }, { ...ev(3, 'k3'), id: 'evt_01JD7X2K4M8Q9R3S5T6V7W8X9Z' }]).then(seqs), [3], `${name}: the same id again is skipped`)
    await outbox.close()
  }
})

import t, { type Test } from 'tap'
import { appendFile, readFile, readdir, writeFile, truncate, stat } from 'node:fs/promises'
import { createCodec } from '../../src/keystore/codec.js'
import { scanSessionFolder } from '../../src/keystore/file/index.js'
import { fileBackend as createFileBackend, type FileBackendOptions } from './fixtures/backends.js'
import { sampleCreds } from './fixtures/values.js'
import { tempFolder } from './fixtures/tmp.js'

const codec = createCodec()

/** A backend closed at teardown without compaction, so each test sees the files it made. */
function fresh(t: Test, sessions: string, extra: Partial<FileBackendOptions> = {}) {
  const b = createFileBackend({ sessionPath: sessions, codec, compactOnClose: false, ...extra })
  t.teardown(() => b.close())
  return b
}

async function seed(sessions: string, clientId: string, writes = 3): Promise<void> {
  // compactOnClose: false keeps the entries in the journal, where these tests damage them.
  const b = createFileBackend({ sessionPath: sessions, codec, compactOnClose: false })
  await b.apply(clientId, { creds: sampleCreds(), version: { epoch: 0, seq: 1 } })
  for (let i = 2; i <= writes; i++) await b.apply(clientId, { keys: { session: { [`s${i}`]: Buffer.from(`v${i}`) } }, version: { epoch: 0, seq: i } })
  await b.close()
}

t.test('an unparseable snapshot is moved aside byte-identical, reported, and load returns null', async (t) => {
  const { sessions } = await tempFolder(t)
  await seed(sessions, 'c1')
  const damaged = Buffer.concat([(await readFile(`${sessions}/c1.json`)).subarray(0, 300), Buffer.from('\u0000garbage')])
  await writeFile(`${sessions}/c1.json`, damaged)
  const journalBytes = await readFile(`${sessions}/c1.journal`)
  const warnings: unknown[] = []
  const logger = { warn: (...a: unknown[]) => void warnings.push(a), info() {}, debug() {}, error() {} } as never
  const backend = fresh(t, sessions, { logger })
  t.equal(await backend.load('c1'), null)
  const events = backend.quarantined()
  t.equal(events.length, 1)
  t.equal(events[0].reason, 'snapshot-unreadable')
  t.same(backend.quarantined(), events)
  const names = await readdir(sessions)
  t.notOk(names.includes('c1.json'), 'snapshot moved away')
  const moved = events[0].moved.find((m) => m.from.endsWith('c1.json'))
  t.match(moved?.to, /c1\.json\.corrupt-\d{4}-\d\d-\d\dT[\d-]+Z$/)
  t.same(await readFile(moved?.to ?? ''), damaged, 'quarantined bytes identical')
  const movedJournal = events[0].moved.find((m) => m.from.endsWith('c1.journal'))
  t.same(await readFile(movedJournal?.to ?? ''), journalBytes, 'its journal is kept beside it')
  t.ok(warnings.length >= 1, 'warned')
  t.notOk(JSON.stringify(warnings).includes('garbage'), 'no contents in the log')

  const scan = await scanSessionFolder(sessions)
  t.equal(scan.corruptFiles.length, 2)
  t.same(scan.corruptFiles.map((f) => f.clientId), ['c1', 'c1'])
  t.same(await backend.list(), [])

  // A new session written after that does not touch the quarantined files, and a second quarantine
  // in the same millisecond gets its own name.
  await backend.apply('c1', { creds: sampleCreds(), version: { epoch: 0, seq: 1 } })
  t.ok(await backend.load('c1'))
  await writeFile(`${sessions}/c1.json`, '{')
  t.equal(await fresh(t, sessions).load('c1'), null)
  t.same(await readFile(moved?.to ?? ''), damaged, 'first quarantined copy never overwritten')
  t.equal((await scanSessionFolder(sessions)).corruptFiles.length, 4)
})

t.test('a torn last journal line (killed mid-append) is ignored and cut away', async (t) => {
  const { sessions } = await tempFolder(t)
  await seed(sessions, 'c2', 4)
  const good = await stat(`${sessions}/c2.journal`)
  await appendFile(`${sessions}/c2.journal`, '{"v":{"epoch":0,"seq":5},"t":"2024-01-01T00:00:00Z","k":{"session":{"s5":{"ty')
  const backend = fresh(t, sessions)
  const snap = await backend.load('c2')
  t.same(snap?.version, { epoch: 0, seq: 4 }, 'acknowledged writes all there')
  t.equal(snap?.keys.get('session')?.get('s4')?.toString(), 'v4')
  t.equal(snap?.keys.get('session')?.has('s5'), false, 'the torn entry is not')
  t.equal((await stat(`${sessions}/c2.journal`)).size, good.size, 'tail truncated')
  t.same(backend.quarantined(), [])
  // Appends continue cleanly after the cut.
  await backend.apply('c2', { keys: { session: { s6: Buffer.from('v6') } }, version: { epoch: 0, seq: 6 } })
  const again = await fresh(t, sessions).load('c2')
  t.equal(again?.keys.get('session')?.get('s6')?.toString(), 'v6')
})

t.test('a complete but unterminated last line is also unacknowledged; zero-filled tails too', async (t) => {
  const { sessions } = await tempFolder(t)
  await seed(sessions, 'c3', 2)
  await appendFile(`${sessions}/c3.journal`, '{"v":{"epoch":0,"seq":3},"t":"2024-01-01T00:00:00Z"}')
  t.same((await fresh(t, sessions).load('c3'))?.version, { epoch: 0, seq: 2 })
  await appendFile(`${sessions}/c3.journal`, Buffer.alloc(4096))
  t.same((await fresh(t, sessions).load('c3'))?.version, { epoch: 0, seq: 2 })
})

t.test('a journal damaged in the middle quarantines the session instead of dropping writes silently', async (t) => {
  const { sessions } = await tempFolder(t)
  await seed(sessions, 'c4', 4)
  const lines = (await readFile(`${sessions}/c4.journal`, 'utf8')).split('\n')
  lines[2] = lines[2].slice(0, 10)
  await writeFile(`${sessions}/c4.journal`, lines.join('\n'))
  const backend = fresh(t, sessions)
  t.equal(await backend.load('c4'), null)
  t.equal(backend.quarantined()[0]?.reason, 'journal-corrupt')
  t.equal(backend.quarantined()[0]?.moved.length, 2)
  t.same((await readdir(sessions)).filter((n) => !n.includes('.corrupt-')), [])
})

t.test('a journal left from before an interrupted compaction is ignored (already in the snapshot)', async (t) => {
  const { sessions } = await tempFolder(t)
  await seed(sessions, 'c5', 3)
  const oldJournal = await readFile(`${sessions}/c5.journal`)
  const b = createFileBackend({ sessionPath: sessions, codec })
  await b.load('c5')
  await b.apply('c5', { keys: { session: { s2: null } }, version: { epoch: 0, seq: 4 } })
  await b.close() // compacts: snapshot has s2 deleted, new journal
  await writeFile(`${sessions}/c5.journal`, oldJournal) // as if killed between the two renames
  const snap = await fresh(t, sessions).load('c5')
  t.same(snap?.version, { epoch: 0, seq: 4 })
  t.equal(snap?.keys.get('session')?.has('s2'), false, 'old journal not replayed over the newer snapshot')
  t.equal(snap?.keys.get('session')?.get('s3')?.toString(), 'v3')
})

t.test('scanSessionFolder reports temp files, quarantined files and sessions without deciding anything', async (t) => {
  const { sessions } = await tempFolder(t)
  t.same(await scanSessionFolder(sessions), { sessions: [], tempFiles: [], corruptFiles: [], other: [] }, 'absent folder is empty')
  await seed(sessions, 'c6', 2)
  await writeFile(`${sessions}/c6.json.tmp-123-abcd`, 'partial')
  await writeFile(`${sessions}/c6.json.corrupt-2024-01-01T00-00-00-000Z`, 'x')
  await writeFile(`${sessions}/.lock`, '1')
  await writeFile(`${sessions}/a.tmp-1.json`, 'odd but valid client id')
  await truncate(`${sessions}/c6.json.tmp-123-abcd`, 3)
  const scan = await scanSessionFolder(sessions)
  t.same(scan.tempFiles.map((f) => [f.name, f.size]), [['c6.json.tmp-123-abcd', 3]])
  t.same(scan.corruptFiles.map((f) => [f.name, f.clientId]), [['c6.json.corrupt-2024-01-01T00-00-00-000Z', 'c6']])
  t.same(scan.sessions.map((s) => [s.clientId, !!s.snapshot, !!s.journal]), [['a.tmp-1', true, false], ['c6', true, true]])
  t.same(scan.other.map((f) => f.name), ['.lock'])
  t.ok(scan.sessions[1].snapshot?.mtime instanceof Date)
  t.equal((await readdir(sessions)).length, 6, 'nothing removed')
  t.same((await fresh(t, sessions).list()).map((s) => s.clientId), ['c6'], 'list skips what it cannot read')
})

for (const [damage, write] of [
  ['a damaged header line', (text: string) => ['{garbage', ...text.split('\n').slice(1)].join('\n')],
  ['an empty journal', () => ''],
] as const) {
  t.test(`${damage} with acknowledged entries after it is quarantined, never taken as already folded in`, async (t) => {
    const { sessions } = await tempFolder(t)
    await seed(sessions, 'c7', 6) // creds in the snapshot, five writes in the journal
    const journal = `${sessions}/c7.journal`
    await writeFile(journal, write(await readFile(journal, 'utf8')))
    const damaged = await readFile(journal)
    const warnings: string[] = []
    const logger = { warn: (_o: unknown, msg: string) => void warnings.push(msg), info() {}, debug() {}, error() {} } as never
    const backend = fresh(t, sessions, { logger })
    t.equal(await backend.load('c7'), null, 'not opened from the snapshot alone')
    t.equal(backend.quarantined()[0]?.reason, 'journal-corrupt')
    const moved = backend.quarantined()[0]?.moved.find((m) => m.from.endsWith('c7.journal'))
    t.same(await readFile(moved?.to ?? ''), damaged, 'the journal is kept, byte-identical, beside the snapshot')
    t.same((await readdir(sessions)).filter((n) => !n.includes('.corrupt-')), [], 'nothing left to be overwritten')
    t.ok(warnings.some((w) => /journal/.test(w)), `logged: ${warnings.join('; ')}`)
  })
}

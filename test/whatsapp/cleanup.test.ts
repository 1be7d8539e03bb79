// cleanupOldSessions with a clock in the future: what is old, what is running, dry run vs real; and
// cleanupLocalFiles keeping quarantined files for their retention period.
import t from 'tap'
import { readdir, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createSessionStore } from '../../src/keystore/index.js'
import { cleanupLocalFiles, cleanupOldSessions, corruptRetentionMs } from '../../src/whatsapp/cleanup.js'
import { tempDir } from '../app/helpers.js'

t.test('old sessions are reported, then removed; running ones never', async (t) => {
  const store = await createSessionStore({ sessionPath: await tempDir(t) })
  t.teardown(() => store.close())
  for (const id of ['old-a', 'old-b', 'running']) {
    const handle = await store.open(id)
    await handle.setStatus('inactive')
    await handle.close()
  }
  const later = new Date(Date.now() + 40 * 86_400_000)
  const isRunning = (id: string) => id === 'running'
  const dry = await cleanupOldSessions({ store, isRunning, olderThanDays: 30, dryRun: true, now: later })
  t.same(dry.removed.map((r) => r.clientId).sort(), ['old-a', 'old-b'])
  t.same(dry.skippedRunning, ['running'])
  t.equal((await store.list()).length, 3, 'dry run deletes nothing')
  const recent = await cleanupOldSessions({ store, isRunning, olderThanDays: 60, dryRun: false, now: later })
  t.same(recent.removed, [], 'nothing older than 60 days')
  const real = await cleanupOldSessions({ store, isRunning, olderThanDays: 30, dryRun: false, now: later })
  t.equal(real.removed.length, 2)
  t.same((await store.list()).map((s) => s.clientId), ['running'])
})

t.test('quarantined .corrupt-* files are kept for the retention period unless the caller says otherwise', async (t) => {
  const sessionPath = await tempDir(t)
  const store = await createSessionStore({ sessionPath })
  t.teardown(() => store.close())
  const now = new Date('2026-06-01T00:00:00.000Z')
  const fresh = join(sessionPath, 'a.json.corrupt-2026-05-31T00-00-00-000Z')
  const old = join(sessionPath, 'b.json.corrupt-2026-04-01T00-00-00-000Z')
  await writeFile(fresh, 'garbage')
  await writeFile(old, 'garbage')
  await utimes(fresh, new Date(now.getTime() - 86_400_000), new Date(now.getTime() - 86_400_000))
  await utimes(old, new Date(now.getTime() - 31 * 86_400_000), new Date(now.getTime() - 31 * 86_400_000))
  const isRunning = () => false

  const byDefault = await cleanupLocalFiles({ sessionPath, store, isRunning, now })
  t.same(byDefault.removed.map((r) => r.file), ['b.json.corrupt-2026-04-01T00-00-00-000Z'], 'only the one past 30 days goes')
  t.ok(byDefault.kept.includes('a.json.corrupt-2026-05-31T00-00-00-000Z'), 'a day-old quarantined file is kept')
  t.same(await readdir(sessionPath), ['a.json.corrupt-2026-05-31T00-00-00-000Z'])

  t.equal(corruptRetentionMs(30), 30 * 86_400_000)
  t.equal(corruptRetentionMs(0), null, 'CLEANUP_INACTIVE_AFTER_DAYS=0 keeps them forever')
  const never = await cleanupLocalFiles({ sessionPath, store, isRunning, now: new Date('2030-01-01'), corruptOlderThanMs: null })
  t.same(never.removed, [])
})

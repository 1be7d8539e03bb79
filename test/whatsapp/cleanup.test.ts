// cleanupOldSessions with a clock in the future: what is old, what is running, dry run vs real.
import t from 'tap'
import { createSessionStore } from '../../src/keystore/index.js'
import { cleanupOldSessions } from '../../src/whatsapp/cleanup.js'
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

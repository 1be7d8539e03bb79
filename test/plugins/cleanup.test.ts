// The automatic cleanup (CLEANUP_INTERVAL_MS): on its timer it removes stale temporary files and
// mirror files of sessions the database no longer has, and deletes sessions never linked or logged
// out once they are older than CLEANUP_INACTIVE_AFTER_DAYS. Linked ('active') sessions, running
// sessions and sessions whose lease another instance holds are never deleted automatically.
import t from 'tap'
import { utimes, writeFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import pino from 'pino'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { createSessionStore } from '../../src/keystore/index.js'
import { createMigratedDatabase } from '../helpers/db.js'
import { closedPort, tempDir } from '../app/helpers.js'

async function store(sessionPath: string, databaseUrl: string, clientId: string) {
  const s = await createSessionStore({ sessionPath, databaseUrl })
  const h = await s.open(clientId)
  await h.saveCreds()
  await h.close()
  await s.close()
}

t.test('the automatic cleanup removes what is stale and keeps what is linked or running', async (t) => {
  const { url, sql } = await createMigratedDatabase(t, 'wa_cleanup')
  const sessionPath = await tempDir(t)
  // 'default' is old and unlinked too, but it is the running CLIENT_ID session.
  for (const id of ['default', 'old-unlinked', 'old-logged-out', 'old-linked', 'new-unlinked', 'held-elsewhere']) await store(sessionPath, url, id)
  await sql`UPDATE whatsapp_sessions SET status = 'logged_out' WHERE client_id = 'old-logged-out'`
  await sql`UPDATE whatsapp_sessions SET status = 'active', jid = '1555:7@s.whatsapp.net' WHERE client_id = 'old-linked'`
  await sql`UPDATE whatsapp_sessions SET updated_at = now() - interval '40 days' WHERE client_id <> 'new-unlinked'`
  await sql`INSERT INTO whatsapp_session_leases (client_id, owner, fencing_token, expires_at)
            VALUES ('held-elsewhere', 'another-instance:1:abcd', 5, now() + interval '1 hour')`
  // A stale temp file, and the mirror of a session the database no longer has.
  const temp = join(sessionPath, 'default.json.tmp-123-ab')
  await writeFile(temp, '{')
  const old = new Date(Date.now() - 3_600_000)
  await utimes(temp, old, old)
  await writeFile(join(sessionPath, 'gone.json'), '{}')
  // Quarantined corrupt files: evidence, kept until they are CLEANUP_INACTIVE_AFTER_DAYS old.
  const oldCorrupt = join(sessionPath, 'x.json.corrupt-2020-01-01T00-00-00-000Z')
  const newCorrupt = join(sessionPath, 'y.json.corrupt-2026-11-30T00-00-00-000Z')
  await writeFile(oldCorrupt, 'garbage')
  await writeFile(newCorrupt, 'garbage')
  const longAgo = new Date(Date.now() - 40 * 86_400_000)
  await utimes(oldCorrupt, longAgo, longAgo)

  const app = await buildApp({
    config: loadConfig({
      NODE_ENV: 'test', DATABASE_URL: url, SESSION_PATH: sessionPath, CLIENT_ID: 'default',
      WA_WS_URL: `ws://127.0.0.1:${await closedPort()}`, CLEANUP_INTERVAL_MS: '1000', CLEANUP_INACTIVE_AFTER_DAYS: '30',
    }),
    logger: pino({ level: 'silent' }),
  })
  t.teardown(() => app.close())
  const metricsText = async () => {
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body
    return text
  }
  // A run is over once it is counted: the sessions' rows go before the count (and the files' checks)
  // are done, so the rows alone are not the signal to wait for.
  const runCounted = /whatsapp_session_cleanup_runs_total\{kind="old",dry_run="false"\} [1-9]/
  const until = Date.now() + 30_000
  let rows: string[] = []
  while (Date.now() < until) {
    rows = (await sql<{ client_id: string }[]>`SELECT client_id FROM whatsapp_sessions ORDER BY client_id`).map((r) => r.client_id)
    if (!rows.includes('old-unlinked') && !rows.includes('old-logged-out') && runCounted.test(await metricsText())) break
    await new Promise((r) => setTimeout(r, 100))
  }
  t.same(rows, ['default', 'held-elsewhere', 'new-unlinked', 'old-linked'], 'old unlinked and logged-out sessions deleted; linked, recent, running and held-elsewhere ones kept')
  const files = await readdir(sessionPath)
  t.notOk(files.includes('default.json.tmp-123-ab'), 'the stale temp file is gone')
  t.notOk(files.includes('gone.json'), 'and the orphan mirror file')
  t.ok(files.includes('old-linked.json'), 'the linked session keeps its mirror')
  t.notOk(files.includes('x.json.corrupt-2020-01-01T00-00-00-000Z'), 'a 40-day-old quarantined file is gone')
  t.ok(files.includes('y.json.corrupt-2026-11-30T00-00-00-000Z'), 'a recent one is kept')
  const metrics = await metricsText()
  t.match(metrics, runCounted, 'runs counted')
  t.match(metrics, /whatsapp_session_cleanup_removed_total\{kind="old"\} 2/, 'two sessions removed')
})

t.test('CLEANUP_INTERVAL_MS=0 turns it off; 1-999 is refused', async (t) => {
  t.throws(() => loadConfig({ CLEANUP_INTERVAL_MS: '500' }), /CLEANUP_INTERVAL_MS must be 0 \(off\) or at least 1000/)
  t.equal(loadConfig({ CLEANUP_INTERVAL_MS: '0' }).cleanup.intervalMs, 0)
  t.same(loadConfig({}).cleanup, { intervalMs: 21_600_000, inactiveAfterDays: 30 }, 'defaults: every 6 h, 30 days')
})

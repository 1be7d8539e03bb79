// The message store through a database outage: a call that fails or hangs goes to the local files
// (after the time bound, on a manual clock), the files alone for a while, then the database again;
// what was kept locally is still found.
import t from 'tap'
import pino from 'pino'
import type { WAMessage } from '@whiskeysockets/baileys'
import { createSql } from '../../src/db/index.js'
import { createSealer } from '../../src/messages/payload.js'
import { createFallbackMessageStore } from '../../src/messages/store/fallback.js'
import { createFileMessageStore } from '../../src/messages/store/file.js'
import { createPostgresMessageStore } from '../../src/messages/store/postgres.js'
import { Status } from '../../src/messages/store/types.js'
import { ADMIN_URL, createMigratedDatabase } from '../helpers/db.js'
import { createManualClock } from '../helpers/manual-clock.js'
import { createTcpProxy } from '../helpers/tcp-proxy.js'
import { untilSettled } from '../helpers/poll.js'
import { tempDir } from '../helpers/temp-dir.js'

const msg = (id: string): WAMessage => ({ key: { remoteJid: '15550002222@s.whatsapp.net', fromMe: true, id }, message: { conversation: id } })
const at = new Date('2025-01-01T00:00:00Z')

t.test('database down: files take over, then the database again', async (t) => {
  const { url, sql: direct } = await createMigratedDatabase(t, 'wa_fallback')
  await direct`INSERT INTO whatsapp_sessions (client_id) VALUES ('c1')`
  const admin = new URL(ADMIN_URL)
  const proxy = await createTcpProxy({ target: { host: admin.hostname, port: Number(admin.port || 5432) } })
  t.teardown(() => proxy.close())
  const sql = createSql(proxy.url(url), { max: 2 })
  t.teardown(() => sql.end({ timeout: 1 }))
  const sealer = createSealer()
  const clock = createManualClock()
  const files = createFileMessageStore({ dir: await tempDir(t), sealer })
  const store = createFallbackMessageStore({
    primary: createPostgresMessageStore({ sql, sealer }), fallback: files, timeoutMs: 3000, retryAfterMs: 15_000, clock, log: pino({ level: 'silent' }),
  })

  await store.save('c1', msg('BEFORE'), { status: Status.SERVER_ACK, at })
  t.equal((await direct`SELECT count(*)::int AS n FROM whatsapp_messages`)[0].n, 1, 'healthy: in Postgres')

  proxy.cut()
  let saved = false
  const saving = store.save('c1', msg('DURING'), { status: Status.SERVER_ACK, at }).then(() => { saved = true })
  await untilSettled('the retry timer is set', () => clock.pending().includes(3000))
  t.notOk(saved, 'waits for the database up to the bound')
  clock.advance(3000)
  await saving
  t.ok(await files.get('c1', 'DURING'), 'then kept in the files')
  await store.save('c1', msg('DURING2'), { status: Status.SERVER_ACK, at })
  t.ok(await files.get('c1', 'DURING2'), 'degraded: straight to the files')
  t.equal((await store.get('c1', 'DURING'))?.message.message?.conversation, 'DURING', 'found while degraded')
  await store.updateStatus('c1', [{ id: 'DURING', status: Status.READ, at }])
  t.equal((await files.get('c1', 'DURING'))?.status, Status.READ, 'its receipts land locally too')

  proxy.restore()
  clock.advance(15_000)
  await store.save('c1', msg('AFTER'), { status: Status.SERVER_ACK, at })
  t.same((await direct`SELECT message_id FROM whatsapp_messages ORDER BY message_id`).map((r) => r.message_id), ['AFTER', 'BEFORE'], 'back in Postgres')
  t.equal((await store.get('c1', 'DURING'))?.status, Status.READ, 'what was kept locally is still found')
  t.equal((await store.get('c1', 'BEFORE'))?.id, 'BEFORE')
})

t.test('after a restart, messages kept locally before are still found and get their receipts', async (t) => {
  const { sql } = await createMigratedDatabase(t, 'wa_fallback_restart')
  await sql`INSERT INTO whatsapp_sessions (client_id) VALUES ('c1')`
  const sealer = createSealer()
  const dir = await tempDir(t)
  const open = () => createFallbackMessageStore({
    primary: createPostgresMessageStore({ sql, sealer }), fallback: createFileMessageStore({ dir, sealer }), timeoutMs: 3000, retryAfterMs: 15_000,
    clock: createManualClock(), log: pino({ level: 'silent' }),
  })
  const empty = open()
  t.equal(await empty.get('c1', 'OUTAGE'), null, 'nothing kept anywhere yet')
  await empty.updateStatus('c1', [{ id: 'OUTAGE', status: Status.READ, at }])

  // What an earlier run kept in the files during an outage.
  await createFileMessageStore({ dir, sealer }).save('c1', msg('OUTAGE'), { status: Status.SERVER_ACK, at })
  const store = open()
  await store.updateStatus('c1', [{ id: 'OUTAGE', status: Status.DELIVERY_ACK, at }])
  const found = await store.get('c1', 'OUTAGE')
  t.equal(found?.message.message?.conversation, 'OUTAGE', 'found in the files')
  t.equal(found?.status, Status.DELIVERY_ACK, 'the receipt landed on it')
})

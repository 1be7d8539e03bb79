// Multi-session routes and the two cleanups, on a real file store in a temp dir.
import t from 'tap'
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { testApp, waitFor } from '../app/helpers.js'

t.test('POST /sessions starts another session; GET /sessions lists it; DELETE removes it', async (t) => {
  const app = await testApp(t)
  const created = await app.inject({ method: 'POST', url: '/api/whatsapp/sessions', payload: { clientId: 'second-shop' } })
  t.equal(created.statusCode, 201)
  t.equal(created.json().clientId, 'second-shop')
  t.ok(['starting', 'connecting', 'reconnecting'].includes(created.json().state))
  t.match(created.json().startedAt, /^\d{4}-/)

  const again = await app.inject({ method: 'POST', url: '/api/whatsapp/sessions', payload: { clientId: 'second-shop' } })
  t.equal(again.statusCode, 409)
  t.equal(again.json().error.code, 'SESSION_EXISTS')

  const status = await app.inject('/api/whatsapp/status?clientId=second-shop')
  t.equal(status.statusCode, 200)
  t.equal(status.json().clientId, 'second-shop')

  const list = await app.inject('/api/whatsapp/sessions')
  t.equal(list.statusCode, 200)
  t.equal(list.json().storage, 'file')
  const ids = list.json().sessions.map((s: { clientId: string }) => s.clientId).sort()
  t.same(ids, ['default', 'second-shop'])
  for (const s of list.json().sessions) {
    t.equal(s.running, true)
    t.same(Object.keys(s).sort(), ['clientId', 'createdAt', 'holder', 'jid', 'location', 'running', 'state', 'status', 'updatedAt'])
    t.equal(s.holder, null, 'file mode: no lease, no holder')
  }

  const del = await app.inject({ method: 'DELETE', url: '/api/whatsapp/sessions/second-shop' })
  t.equal(del.statusCode, 200)
  t.equal(del.json().clientId, 'second-shop')
  t.equal(del.json().wasRunning, true)
  t.equal((await app.inject('/api/whatsapp/status?clientId=second-shop')).statusCode, 404)
  const after = (await app.inject('/api/whatsapp/sessions')).json().sessions.map((s: { clientId: string }) => s.clientId)
  t.same(after, ['default'])
  t.notOk((await readdir(app.config.sessionPath)).some((f) => f.startsWith('second-shop')), 'its files are gone')

  const gone = await app.inject({ method: 'DELETE', url: '/api/whatsapp/sessions/second-shop' })
  t.equal(gone.statusCode, 404)
  t.equal(gone.json().error.code, 'STORED_SESSION_NOT_FOUND')
  const bad = await app.inject({ method: 'DELETE', url: '/api/whatsapp/sessions/..%2Fetc' })
  t.equal(bad.statusCode, 400)
  const noBody = await app.inject({ method: 'POST', url: '/api/whatsapp/sessions', payload: {} })
  t.equal(noBody.statusCode, 400)
  t.match(noBody.json().error.message, /body\.clientId is required/)
})

t.test('POST /cleanup-old-sessions: dry run by default, never a running session', async (t) => {
  const app = await testApp(t)
  const res = await app.inject({ method: 'POST', url: '/api/whatsapp/cleanup-old-sessions' })
  t.equal(res.statusCode, 200)
  t.equal(res.json().dryRun, true)
  t.match(res.json().cutoff, /^\d{4}-/)
  t.same(res.json().removed, [])
  const real = await app.inject({ method: 'POST', url: '/api/whatsapp/cleanup-old-sessions', payload: { olderThanDays: 1, dryRun: false } })
  t.equal(real.statusCode, 200)
  t.equal(real.json().dryRun, false)
  const bad = await app.inject({ method: 'POST', url: '/api/whatsapp/cleanup-old-sessions', payload: { olderThanDays: 0 } })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().error.code, 'VALIDATION_FAILED')
  t.match(bad.json().error.message, /olderThanDays/)
  t.equal(app.sessions.get('default').state !== 'stopped', true)
})

t.test('POST /cleanup-sessions: stale temp and expired quarantined files go, live, recent quarantined and other files stay', async (t) => {
  const app = await testApp(t)
  const dir = app.config.sessionPath
  await mkdir(dir, { recursive: true })
  await waitFor(() => app.sessions.get('default').storeHealth() !== null, 3000)
  const old = new Date(Date.now() - 3600_000)
  await writeFile(join(dir, 'default.json.tmp-1-abc'), 'x')
  await utimes(join(dir, 'default.json.tmp-1-abc'), old, old)
  await writeFile(join(dir, 'default.json.tmp-2-fresh'), 'x') // may be a write in progress
  await writeFile(join(dir, 'gone.json.corrupt-2024-01-01T00-00-00-000Z'), 'x')
  // Quarantined files are the only recoverable copy: kept for CLEANUP_INACTIVE_AFTER_DAYS (30).
  const expired = new Date(Date.now() - 31 * 86_400_000)
  await utimes(join(dir, 'gone.json.corrupt-2024-01-01T00-00-00-000Z'), expired, expired)
  await writeFile(join(dir, 'recent.json.corrupt-2024-02-01T00-00-00-000Z'), 'x')
  await writeFile(join(dir, 'notes.txt'), 'operator file')
  const res = await app.inject({ method: 'POST', url: '/api/whatsapp/cleanup-sessions' })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.same(body.removed.map((r: { file: string; reason: string }) => `${r.reason}:${r.file}`).sort(), [
    'corrupt:gone.json.corrupt-2024-01-01T00-00-00-000Z',
    'temp:default.json.tmp-1-abc',
  ])
  t.same(body.errors, [])
  const left = await readdir(dir)
  t.ok(left.includes('default.json.tmp-2-fresh'))
  t.ok(left.includes('notes.txt'))
  t.ok(left.includes('recent.json.corrupt-2024-02-01T00-00-00-000Z'), 'a quarantined file younger than the retention stays')
  t.notOk(left.includes('default.json.tmp-1-abc'))

  const metrics = await app.inject('/metrics')
  t.match(metrics.body, /whatsapp_session_cleanup_removed_total\{kind="local"\} 2/)
})

t.test('a client id of the maximum length (128) can be created, addressed and deleted', async (t) => {
  const app = await testApp(t, {}, { startDefaultSession: false })
  const id = `a${'b'.repeat(126)}z`
  t.equal(id.length, 128)
  t.equal((await app.inject({ method: 'POST', url: '/api/whatsapp/sessions', payload: { clientId: id } })).statusCode, 201)
  t.equal((await app.inject(`/api/whatsapp/status?clientId=${id}`)).statusCode, 200)
  const del = await app.inject({ method: 'DELETE', url: `/api/whatsapp/sessions/${id}` })
  t.equal(del.statusCode, 200, `DELETE answers ${del.statusCode} ${del.body.slice(0, 120)}`)
  t.equal(del.json().clientId, id)
})

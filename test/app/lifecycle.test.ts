// The app owns its sessions: CLIENT_ID starts at boot, app.close() stops every one of them (timers
// cancelled, sockets closed) and the manager takes no new ones.
import t from 'tap'
import { testApp, waitFor } from './helpers.js'

t.test('CLIENT_ID starts at boot; close() stops every session', async (t) => {
  const app = await testApp(t, { CLIENT_ID: 'rafi-scheme-manager' })
  t.same(app.sessions.list().map((s) => s.clientId), ['rafi-scheme-manager'])
  await app.sessions.create('second')
  await app.sessions.create('third')
  const sessions = app.sessions.list()
  t.equal(sessions.length, 3)
  await waitFor(() => sessions.every((s) => s.state === 'reconnecting'), 3000)
  await app.close()
  t.same(sessions.map((s) => s.state), ['stopped', 'stopped', 'stopped'])
  t.ok(sessions.every((s) => s.status().reconnect.nextRetryAt === null), 'no retry pending')
  t.same(app.sessions.list(), [])
  await t.rejects(app.sessions.create('late'), { code: 'SESSION_STOPPED' })
})

t.test('startDefaultSession: false starts nothing', async (t) => {
  const app = await testApp(t, {}, { startDefaultSession: false })
  t.same(app.sessions.list(), [])
  const res = await app.inject('/api/whatsapp/status')
  t.equal(res.statusCode, 404)
  t.equal(res.json().error.code, 'SESSION_NOT_FOUND')
})

// Single-session read routes and reconnect, through app.inject on the real app (file store in a temp
// dir, WhatsApp unreachable: the default session is connecting/backing off).
import t from 'tap'
import { testApp, waitFor } from '../app/helpers.js'

t.test('GET /api/whatsapp/status: the default session, trying and backing off', async (t) => {
  const app = await testApp(t)
  await waitFor(() => app.sessions.get('default').state === 'reconnecting', 3000)
  const res = await app.inject('/api/whatsapp/status')
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.clientId, 'default')
  t.equal(body.state, 'reconnecting')
  t.equal(body.connected, false)
  t.equal(body.account, null)
  t.equal(body.connectedSince, null)
  t.type(body.lastDisconnect.reason, 'string')
  t.ok(body.reconnect.attempt >= 1)
  t.match(body.reconnect.nextRetryAt, /^\d{4}-/)
  t.equal(body.qrAvailable, false)
  t.ok(res.headers['x-request-id'])
})

t.test('clientId selects a session; unknown -> 404 SESSION_NOT_FOUND; malformed -> 400', async (t) => {
  const app = await testApp(t)
  const missing = await app.inject('/api/whatsapp/status?clientId=nobody')
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().error.code, 'SESSION_NOT_FOUND')
  t.match(missing.json().error.message, /POST \/api\/whatsapp\/sessions/)
  t.equal(missing.json().requestId, missing.headers['x-request-id'])
  const bad = await app.inject('/api/whatsapp/status?clientId=../etc')
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().error.code, 'VALIDATION_FAILED')
  t.match(bad.json().error.message, /clientId/)
  t.same(bad.json().error.details[0].field, 'querystring.clientId')
})

t.test('GET /api/whatsapp/qr without a QR yet: 425 QR_NOT_READY with Retry-After', async (t) => {
  const app = await testApp(t)
  for (const format of ['', '?format=png', '?format=terminal']) {
    const res = await app.inject(`/api/whatsapp/qr${format}`)
    t.equal(res.statusCode, 425)
    t.equal(res.json().error.code, 'QR_NOT_READY')
    t.match(res.json().error.message, /[Rr]etry/)
    t.ok(Number(res.headers['retry-after']) >= 1, 'Retry-After seconds')
    t.type(res.json().error.details.state, 'string')
  }
  const bad = await app.inject('/api/whatsapp/qr?format=gif')
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().error.code, 'VALIDATION_FAILED')
})

t.test('GET /api/whatsapp/session-info: storage health, key counts, encryption, uptime', async (t) => {
  const key = Buffer.alloc(32, 1).toString('base64')
  const app = await testApp(t, { SESSION_ENCRYPTION_KEY: key })
  await waitFor(() => app.sessions.get('default').storeHealth() !== null, 3000)
  const res = await app.inject('/api/whatsapp/session-info')
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.clientId, 'default')
  t.equal(body.storage.mode, 'file')
  t.equal(body.storage.degraded, false)
  t.equal(body.storage.databaseReachable, null)
  t.match(body.storage.mirrorPath, /default\.json$/)
  t.equal(body.encryption, true)
  t.type(body.keyCounts, 'object')
  t.type(body.uptimeSeconds, 'number')
  t.type(body.serverUptimeSeconds, 'number')
  t.notMatch(res.body, new RegExp(key.replace(/[+/=]/g, '.')), 'no key material')
  t.equal((await app.inject('/api/whatsapp/session-info?clientId=nobody')).statusCode, 404)
})

t.test('POST /api/whatsapp/reconnect: fresh attempt; body or query clientId; unknown 404', async (t) => {
  const app = await testApp(t)
  await waitFor(() => app.sessions.get('default').status().reconnect.attempt >= 2, 4000)
  const [a, b] = await Promise.all([
    app.inject({ method: 'POST', url: '/api/whatsapp/reconnect' }),
    app.inject({ method: 'POST', url: '/api/whatsapp/reconnect', payload: { clientId: 'default' } }),
  ])
  t.equal(a.statusCode, 200)
  t.equal(b.statusCode, 200)
  t.equal(a.json().clientId, 'default')
  t.ok(['connecting', 'reconnecting'].includes(a.json().state))
  t.ok(app.sessions.get('default').status().reconnect.attempt <= 1, 'backoff reset')
  const missing = await app.inject({ method: 'POST', url: '/api/whatsapp/reconnect?clientId=nobody' })
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().error.code, 'SESSION_NOT_FOUND')
  const extra = await app.inject({ method: 'POST', url: '/api/whatsapp/reconnect', payload: { clientId: '../x' } })
  t.equal(extra.statusCode, 400)
})

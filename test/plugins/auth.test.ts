// API key on and off; both headers; constant-time comparison of digests; public routes.
import t from 'tap'
import { bearer, testApp } from '../app/helpers.js'

const KEY = 'test-key-0123456789abcdef'

t.test('no API_KEY: everything open', async (t) => {
  const app = await testApp(t)
  t.equal((await app.inject('/api/whatsapp/status')).statusCode, 200)
  t.equal((await app.inject('/metrics')).statusCode, 200)
})

t.test('API_KEY set: 401 UNAUTHORIZED without or with a wrong key; Bearer and x-api-key accepted', async (t) => {
  const app = await testApp(t, { API_KEY: KEY })
  const none = await app.inject('/api/whatsapp/status')
  t.equal(none.statusCode, 401)
  t.equal(none.json().error.code, 'UNAUTHORIZED')
  t.match(none.json().error.message, /Authorization: Bearer/)
  t.equal((await app.inject({ url: '/api/whatsapp/status', headers: bearer('wrong') })).statusCode, 401)
  t.equal((await app.inject({ url: '/api/whatsapp/status', headers: bearer(KEY + 'x') })).statusCode, 401)
  t.equal((await app.inject({ url: '/api/whatsapp/status', headers: { authorization: KEY } })).statusCode, 401, 'Bearer prefix needed')
  t.equal((await app.inject({ url: '/api/whatsapp/status', headers: bearer(KEY) })).statusCode, 200)
  t.equal((await app.inject({ url: '/api/whatsapp/status', headers: { 'x-api-key': KEY } })).statusCode, 200)
  const post = await app.inject({ method: 'POST', url: '/api/whatsapp/send', payload: { to: '1', text: 'x' } })
  t.equal(post.statusCode, 401, 'auth before validation')
  t.notMatch(none.body, new RegExp(KEY))
})

t.test('API_KEY set: /health, /ready and /docs stay open; /metrics needs the key unless METRICS_PUBLIC', async (t) => {
  const app = await testApp(t, { API_KEY: KEY })
  t.equal((await app.inject('/health')).statusCode, 200)
  t.equal((await app.inject('/ready')).statusCode, 200)
  t.equal((await app.inject('/docs/json')).statusCode, 200)
  t.equal((await app.inject('/metrics')).statusCode, 401)
  t.equal((await app.inject({ url: '/metrics', headers: bearer(KEY) })).statusCode, 200)
  const open = await testApp(t, { API_KEY: KEY, METRICS_PUBLIC: 'true' })
  t.equal((await open.inject('/metrics')).statusCode, 200)
  t.equal((await open.inject('/api/whatsapp/status')).statusCode, 401)
  const doc = (await app.inject('/docs/json')).json()
  t.same(doc.security, [{ bearer: [] }, { apiKey: [] }])
})

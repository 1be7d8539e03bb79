// Global and send limits, per API key or IP, answered in the one error shape.
import t from 'tap'
import { bearer, testApp } from '../app/helpers.js'

t.test('global limit: 429 RATE_LIMITED with Retry-After in the error shape; health not limited', async (t) => {
  const app = await testApp(t, { RATE_LIMIT_MAX: '3' })
  for (let i = 0; i < 3; i++) t.equal((await app.inject('/api/whatsapp/status')).statusCode, 200)
  const res = await app.inject('/api/whatsapp/status')
  t.equal(res.statusCode, 429)
  t.equal(res.json().error.code, 'RATE_LIMITED')
  t.match(res.json().error.message, /limit is 3/)
  t.ok(res.json().requestId)
  t.ok(Number(res.headers['retry-after']) >= 1)
  for (let i = 0; i < 5; i++) t.equal((await app.inject('/health')).statusCode, 200)
})

t.test('send has its own stricter limit', async (t) => {
  const app = await testApp(t, { RATE_LIMIT_MAX: '100', SEND_RATE_LIMIT_MAX: '2' })
  const send = () => app.inject({ method: 'POST', url: '/api/whatsapp/send', payload: { to: '+14155550123', text: 'x' } })
  t.equal((await send()).statusCode, 409)
  t.equal((await send()).statusCode, 409)
  const limited = await send()
  t.equal(limited.statusCode, 429)
  t.equal(limited.json().error.code, 'RATE_LIMITED')
  t.equal((await app.inject('/api/whatsapp/status')).statusCode, 200, 'other routes unaffected')
})

t.test('buckets per valid API key, wrong keys share the IP bucket', async (t) => {
  const KEY = 'k'.repeat(32)
  const app = await testApp(t, { RATE_LIMIT_MAX: '2', API_KEY: KEY })
  // Two wrong keys use up the IP's bucket...
  t.equal((await app.inject({ url: '/api/whatsapp/status', headers: bearer('guess-1') })).statusCode, 401)
  t.equal((await app.inject({ url: '/api/whatsapp/status', headers: bearer('guess-2') })).statusCode, 401)
  t.equal((await app.inject({ url: '/api/whatsapp/status', headers: bearer('guess-3') })).statusCode, 429, 'guessing is limited')
  // ...while the valid key has its own.
  t.equal((await app.inject({ url: '/api/whatsapp/status', headers: bearer(KEY) })).statusCode, 200)
  t.equal((await app.inject({ url: '/api/whatsapp/status', headers: bearer(KEY) })).statusCode, 200)
  t.equal((await app.inject({ url: '/api/whatsapp/status', headers: bearer(KEY) })).statusCode, 429)
})

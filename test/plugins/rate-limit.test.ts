// Global and send limits, per API key or IP, answered in the one error shape; failed authentications
// counted on every route; the client IP taken only from the proxies TRUST_PROXY names.
import t from 'tap'
import type { App } from '../../src/app.js'
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

t.test('failed authentications count against the IP on every route: unknown paths and /metrics too', async (t) => {
  const KEY = 'k'.repeat(32)
  for (const url of ['/no/such/route', '/metrics', '/api/whatsapp/nope']) {
    const app = await testApp(t, { RATE_LIMIT_MAX: '3', API_KEY: KEY }, { startDefaultSession: false })
    for (let i = 0; i < 3; i++) t.equal((await app.inject({ url, headers: bearer(`guess-${i}`) })).statusCode, 401, `${url} guess ${i}`)
    const limited = await app.inject({ url, headers: bearer('guess-3') })
    t.equal(limited.statusCode, 429, `${url}: guessing is limited`)
    t.equal(limited.json().error.code, 'RATE_LIMITED')
    t.ok(Number(limited.headers['retry-after']) >= 1)
    t.equal((await app.inject({ url: '/api/whatsapp/status', headers: bearer('guess-4') })).statusCode, 429, 'on the other routes too')
    t.equal((await app.inject({ url: '/metrics', headers: bearer(KEY) })).statusCode, 200, 'the valid key has its own bucket')
    t.equal((await app.inject('/health')).statusCode, 200, '/health stays open')
  }
})

t.test('unknown paths are rate limited for valid keys too', async (t) => {
  const KEY = 'k'.repeat(32)
  const app = await testApp(t, { RATE_LIMIT_MAX: '2', API_KEY: KEY }, { startDefaultSession: false })
  t.equal((await app.inject({ url: '/nope', headers: bearer(KEY) })).statusCode, 404)
  t.equal((await app.inject({ url: '/nope', headers: bearer(KEY) })).statusCode, 404)
  t.equal((await app.inject({ url: '/nope', headers: bearer(KEY) })).statusCode, 429)
})

/** `count` requests without a key from 127.0.0.1 with these headers; the statuses seen. */
async function statuses(app: App, count: number, headers: (i: number) => Record<string, string>): Promise<Set<number>> {
  const seen = new Set<number>()
  for (let i = 0; i < count; i++) seen.add((await app.inject({ url: '/api/whatsapp/status', headers: headers(i) })).statusCode)
  return seen
}

const production = { NODE_ENV: 'production', API_KEY: 'k'.repeat(32), RATE_LIMIT_MAX: '50' }

t.test('production: a client-supplied X-Forwarded-For does not choose the rate-limit bucket', async (t) => {
  const app = await testApp(t, production, { startDefaultSession: false })
  t.ok((await statuses(app, 60, (i) => ({ 'x-forwarded-for': `198.51.100.${i}` }))).has(429), '60 rotating X-Forwarded-For values hit 429')
})

t.test('TRUST_PROXY=1: the entry the one trusted proxy added (right-most) is the client', async (t) => {
  const app = await testApp(t, { ...production, TRUST_PROXY: '1' }, { startDefaultSession: false })
  t.ok((await statuses(app, 60, (i) => ({ 'x-forwarded-for': `198.51.100.${i}, 203.0.113.7` }))).has(429), 'forged left-most entries do not help')
  const other = await testApp(t, { ...production, TRUST_PROXY: '1' }, { startDefaultSession: false })
  t.notOk((await statuses(other, 60, (i) => ({ 'x-forwarded-for': `203.0.113.${i}` }))).has(429), 'distinct clients behind the proxy have their own buckets')
})

t.test('TRUST_PROXY as proxy addresses: entries added by a listed proxy are trusted', async (t) => {
  const app = await testApp(t, { ...production, TRUST_PROXY: '127.0.0.1/32, ::1' }, { startDefaultSession: false })
  t.notOk((await statuses(app, 60, (i) => ({ 'x-forwarded-for': `203.0.113.${i}` }))).has(429), 'clients behind the proxy are told apart')
  t.ok((await statuses(app, 60, (i) => ({ 'x-forwarded-for': `198.51.100.${i}, 203.0.113.200` }))).has(429), 'but only by the entry the proxy added')
})

t.test('on Fly.io (detected, or TRUST_PROXY=fly): Fly-Client-IP is the client', async (t) => {
  const app = await testApp(t, { ...production, FLY_APP_NAME: 'whatsapp-backend' }, { startDefaultSession: false })
  t.equal(app.config.trustProxy, 'fly')
  t.ok((await statuses(app, 60, (i) => ({ 'fly-client-ip': '203.0.113.9', 'x-forwarded-for': `198.51.100.${i}` }))).has(429), 'X-Forwarded-For is ignored')
  t.notOk((await statuses(app, 60, (i) => ({ 'fly-client-ip': `203.0.113.${100 + i}` }))).has(429), 'each Fly-Client-IP has its own bucket')
  const v6 = await testApp(t, { ...production, TRUST_PROXY: 'fly' }, { startDefaultSession: false })
  t.ok((await statuses(v6, 60, (i) => ({ 'fly-client-ip': `2001:db8:1:2::${(i + 1).toString(16)}` }))).has(429), 'an IPv6 /64 is one bucket')
})

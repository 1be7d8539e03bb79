// The one error shape: 404 route, 5xx not leaked, the catalogue is complete.
import t from 'tap'
import { errorCatalogue } from '../../src/errors.js'
import { testApp } from './helpers.js'

t.test('unknown route: 404 NOT_FOUND in the error shape', async (t) => {
  const app = await testApp(t)
  const res = await app.inject('/api/whatsapp/nope')
  t.equal(res.statusCode, 404)
  t.same(Object.keys(res.json()).sort(), ['error', 'requestId'])
  t.equal(res.json().error.code, 'NOT_FOUND')
})

t.test('internal errors: 500 INTERNAL, the message is not leaked, the request id is', async (t) => {
  const app = await testApp(t)
  app.store.list = async () => {
    throw new Error('connection to postgres://user:hunter2@db failed')
  }
  const res = await app.inject('/api/whatsapp/sessions')
  t.equal(res.statusCode, 500)
  t.equal(res.json().error.code, 'INTERNAL')
  t.notMatch(res.body, /hunter2|postgres/)
  t.equal(res.json().requestId, res.headers['x-request-id'])
})

t.test('a client-supplied x-request-id is echoed', async (t) => {
  const app = await testApp(t)
  const res = await app.inject({ url: '/api/whatsapp/nope', headers: { 'x-request-id': 'trace-42' } })
  t.equal(res.json().requestId, 'trace-42')
})

t.test('every catalogue entry has a status and an actionable sentence', async (t) => {
  for (const [code, { status, message }] of Object.entries(errorCatalogue)) {
    t.ok(status >= 400 && status < 600, code)
    t.ok(message.length > 30 && message.endsWith('.'), `${code}: ${message}`)
  }
})

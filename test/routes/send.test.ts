// POST /send and /pairing-code: validation and the "not open / not waiting for a link" answers.
import t from 'tap'
import { testApp } from '../app/helpers.js'

t.test('POST /api/whatsapp/send validates, then answers 409 SESSION_NOT_OPEN', async (t) => {
  const app = await testApp(t)
  const res = await app.inject({ method: 'POST', url: '/api/whatsapp/send', payload: { to: '+1 415-555-0123', text: 'hello' } })
  t.equal(res.statusCode, 409)
  t.equal(res.json().error.code, 'SESSION_NOT_OPEN')
  t.match(res.json().error.message, /status/)

  const missing = await app.inject({ method: 'POST', url: '/api/whatsapp/send', payload: { to: '+14155550123' } })
  t.equal(missing.statusCode, 400)
  t.equal(missing.json().error.code, 'VALIDATION_FAILED')
  t.match(missing.json().error.message, /body\.text is required/)

  const empty = await app.inject({ method: 'POST', url: '/api/whatsapp/send', payload: { to: '+14155550123', text: '' } })
  t.equal(empty.statusCode, 400)

  const badPhone = await app.inject({ method: 'POST', url: '/api/whatsapp/send', payload: { to: 'call me', text: 'x' } })
  t.equal(badPhone.statusCode, 400)
  t.equal(badPhone.json().error.code, 'INVALID_PHONE')
  t.match(badPhone.json().error.message, /international format/)

  const unknown = await app.inject({ method: 'POST', url: '/api/whatsapp/send', payload: { to: '+14155550123', text: 'x', clientId: 'nobody' } })
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().error.code, 'SESSION_NOT_FOUND')

  const notJson = await app.inject({ method: 'POST', url: '/api/whatsapp/send', headers: { 'content-type': 'application/json' }, payload: '{oops' })
  t.equal(notJson.statusCode, 400)
  t.equal(notJson.json().error.code, 'INVALID_JSON')
  t.ok(notJson.json().requestId)
})

t.test('POST /api/whatsapp/pairing-code: 409 PAIRING_NOT_AVAILABLE until the session waits for a link', async (t) => {
  const app = await testApp(t)
  const res = await app.inject({ method: 'POST', url: '/api/whatsapp/pairing-code', payload: { phone: '+44 7700 900123' } })
  t.equal(res.statusCode, 409)
  t.equal(res.json().error.code, 'PAIRING_NOT_AVAILABLE')
  t.match(res.json().error.message, /"qr"/)
  const bad = await app.inject({ method: 'POST', url: '/api/whatsapp/pairing-code', payload: { phone: '07700 900123' } })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().error.code, 'INVALID_PHONE')
  const none = await app.inject({ method: 'POST', url: '/api/whatsapp/pairing-code', payload: {} })
  t.equal(none.statusCode, 400)
  t.equal(none.json().error.code, 'VALIDATION_FAILED')
})

t.test('POST /api/whatsapp/send: status updates, channels and malformed groups are refused with a code', async (t) => {
  const app = await testApp(t)
  const send = (to: string) => app.inject({ method: 'POST', url: '/api/whatsapp/send', payload: { to, text: 'x' } })
  for (const to of ['status@broadcast', '120363000000000000@newsletter']) {
    const res = await send(to)
    t.equal(res.statusCode, 400, to)
    t.equal(res.json().error.code, 'UNSUPPORTED_RECIPIENT', to)
    t.match(res.json().error.message, /phone number, a user .* or a group/)
    t.type(res.json().error.details.reason, 'string')
  }
  const dashes = await send('-----@g.us')
  t.equal(dashes.statusCode, 400)
  t.equal(dashes.json().error.code, 'INVALID_PHONE')
  t.equal((await send('120363025246125486@g.us')).json().error.code, 'SESSION_NOT_OPEN', 'a group id passes to the session')
})

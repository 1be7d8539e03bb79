// The webhook API on the real app (file mode, an in-memory outbox): a session's own webhook, refusals
// with stable codes, delivery signed with the configured secrets and without the API key, dead letters
// and their redelivery, and the configuration's refusal of a URL without a secret.
import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { ConfigError, loadConfig } from '../../src/config.js'
import { eventually } from '../helpers/manual-clock.js'
import { createMemoryOutbox } from '../helpers/memory-outbox.js'
import { startConsumer } from '../helpers/webhook-consumer.js'
import { OLD_SECRET, SECRET, textEvent } from '../helpers/webhook-worker.js'
import { bearer, testApp } from '../app/helpers.js'

const API_KEY = 'k'.repeat(40)

interface Listing { clientId: string; deliveries: Array<{ eventId: string; seq: number; lastStatus: number | null; attempts: number; endpoint: string }> }
const auth = bearer(API_KEY)

t.test('WEBHOOK_URL without WEBHOOK_SECRET refuses to start; bad URLs and secrets are named', async (t) => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env)
      return []
    } catch (err) {
      t.ok(err instanceof ConfigError)
      return (err as ConfigError).problems
    }
  }
  t.match(problems({ WEBHOOK_URL: 'https://example.com/hook' }).join('\n'), /WEBHOOK_SECRET is required when WEBHOOK_URL is set/)
  t.match(problems({ WEBHOOK_URL: 'ftp://example.com/hook', WEBHOOK_SECRET: SECRET }).join('\n'), /WEBHOOK_URL is refused/)
  t.match(problems({ WEBHOOK_URL: 'https://evil.example.net/', WEBHOOK_SECRET: SECRET, WEBHOOK_ALLOWED_HOSTS: '*.example.com' }).join('\n'), /WEBHOOK_URL is refused/)
  t.match(problems({ WEBHOOK_URL: 'https://example.com/', WEBHOOK_SECRET: 'secret' }).join('\n'), /WEBHOOK_SECRET and WEBHOOK_SECRET_PREVIOUS must be whsec_/)
  t.notMatch(problems({ WEBHOOK_URL: 'https://example.com/', WEBHOOK_SECRET: 'secret' }).join('\n'), /=secret|: secret/, 'the value is not echoed')
  const config = loadConfig({ WEBHOOK_URL: 'https://a.example.com/', WEBHOOK_SECRET: SECRET, WEBHOOK_SECRET_PREVIOUS: OLD_SECRET, WEBHOOK_EVENTS: 'message.*,session.status', WEBHOOK_ALLOWED_HOSTS: '*.example.com' })
  t.same(config.webhooks.global, { url: 'https://a.example.com/', secrets: [SECRET, OLD_SECRET], events: ['message.*', 'session.status'] })
  t.equal(config.webhooks.maxAgeMs, 24 * 3_600_000)
})

t.test('a session webhook: set, read masked, refused targets, delivery without our API key', async (t) => {
  const consumer = await startConsumer()
  t.teardown(consumer.close)
  const outbox = createMemoryOutbox()
  const app = await testApp(t, { API_KEY, WEBHOOK_ALLOWED_HOSTS: '127.0.0.1,*.example.com' }, { eventOutbox: outbox })
  await outbox.append('default', [textEvent(1)])

  const refused = async (body: object, code: string) => {
    const res = await app.inject({ method: 'PUT', url: '/api/whatsapp/webhook', headers: auth, payload: body })
    t.equal(res.statusCode, 400, code)
    t.equal(res.json().error.code, code)
  }
  await refused({ url: 'file:///etc/passwd' }, 'WEBHOOK_URL_REFUSED')
  await refused({ url: 'http://user:pw@127.0.0.1/x' }, 'WEBHOOK_URL_REFUSED')
  await refused({ url: 'https://intranet.local/x' }, 'WEBHOOK_URL_REFUSED')
  await refused({ url: 'not a url' }, 'WEBHOOK_URL_REFUSED')
  await refused({ url: consumer.url, headers: { 'Webhook-Id': 'x' } }, 'WEBHOOK_HEADER_REFUSED')
  await refused({ url: consumer.url, headers: { Connection: 'close' } }, 'WEBHOOK_HEADER_REFUSED')
  await refused({ url: consumer.url, headers: { authorization: 'Bearer x' } }, 'WEBHOOK_HEADER_REFUSED')
  await refused({ url: consumer.url, secret: 'hunter2' }, 'WEBHOOK_SECRET_INVALID')
  t.equal((await app.inject({ method: 'PUT', url: '/api/whatsapp/webhook', headers: auth, payload: { url: consumer.url, extra: 1 } })).json().error.code, 'VALIDATION_FAILED')
  t.equal((await app.inject({ method: 'PUT', url: '/api/whatsapp/webhook?clientId=nobody', headers: auth, payload: { url: consumer.url } })).json().error.code, 'STORED_SESSION_NOT_FOUND')
  t.equal((await app.inject({ url: '/api/whatsapp/webhook', headers: auth })).json().error.code, 'WEBHOOK_NOT_FOUND')

  const put = await app.inject({ method: 'PUT', url: '/api/whatsapp/webhook', headers: auth, payload: { url: consumer.url, headers: { 'X-Tenant': 'acme' }, events: ['message.*'] } })
  t.equal(put.statusCode, 200)
  const secret = put.json().generatedSecret as string
  t.match(secret, /^whsec_/)
  t.equal(put.json().secret, `whsec_…${secret.slice(-4)}`)
  const got = await app.inject({ url: '/api/whatsapp/webhook', headers: auth })
  t.equal(got.json().secret, `whsec_…${secret.slice(-4)}`)
  t.notOk(got.body.includes(secret), 'GET never shows the secret')
  t.same(got.json().headers, { 'x-tenant': 'acme' })

  const [event] = await outbox.append('default', [textEvent(2)])
  await eventually('delivered', () => consumer.received.length >= 1)
  t.equal(consumer.received.length, 1, 'the event stored before the webhook was set is not sent to it')
  const [r] = consumer.received
  t.same(new Webhook(secret).verify(r.body, r.headers as Record<string, string>), { id: event.id, type: 'message.received', clientId: 'default', seq: 2, timestamp: event.timestamp, data: { n: 2 } })
  t.equal(r.headers['x-tenant'], 'acme')
  t.notOk(JSON.stringify(r.headers).includes(API_KEY) || r.body.includes(API_KEY), 'the API key never reaches the consumer')

  const del = await app.inject({ method: 'DELETE', url: '/api/whatsapp/webhook', headers: auth })
  t.same(del.json(), { clientId: 'default', deleted: true })
  t.equal((await app.inject({ method: 'DELETE', url: '/api/whatsapp/webhook', headers: auth })).json().error.code, 'WEBHOOK_NOT_FOUND')
})

t.test('WEBHOOK_URL: a refused event is listed as a dead letter and redelivered on request', async (t) => {
  let refuse = true
  const consumer = await startConsumer(() => (refuse ? 422 : 200))
  t.teardown(consumer.close)
  const outbox = createMemoryOutbox()
  const app = await testApp(t, { API_KEY, WEBHOOK_URL: consumer.url, WEBHOOK_SECRET: SECRET, WEBHOOK_SECRET_PREVIOUS: OLD_SECRET }, { eventOutbox: outbox })
  const [first, second] = await outbox.append('default', [textEvent(1), textEvent(2)])
  const deliveries = async (query = '') => (await app.inject({ url: `/api/whatsapp/webhook/deliveries${query}`, headers: auth })).json() as Listing
  const listed = await eventually('dead letters', async () => ((await deliveries('?status=failed')).deliveries.length === 2 ? deliveries('?status=failed') : null))
  t.same(listed.deliveries.map((d) => [d.eventId, d.seq, d.lastStatus, d.attempts, d.endpoint]), [[first.id, 1, 422, 1, 'global'], [second.id, 2, 422, 1, 'global']])
  t.notOk(JSON.stringify(listed).includes(SECRET.slice(6)), 'no secret in the listing')
  refuse = false
  const redeliver = await app.inject({ method: 'POST', url: '/api/whatsapp/webhook/deliveries/redeliver', headers: auth, payload: { eventIds: [second.id] } })
  t.equal(redeliver.statusCode, 202)
  t.same(redeliver.json(), { clientId: 'default', requeued: 1, eventIds: [second.id] })
  await eventually('redelivered', () => consumer.received.length >= 3)
  const last = consumer.received[2]
  t.equal(last.headers['webhook-id'], second.id, 'same event id')
  for (const s of [SECRET, OLD_SECRET]) t.ok(new Webhook(s).verify(last.body, last.headers as Record<string, string>))
  const left = await eventually('one left', async () => ((await deliveries()).deliveries.length === 1 ? deliveries() : null))
  t.equal(left.deliveries[0].eventId, first.id)
  const metrics = await app.inject({ url: '/metrics', headers: auth })
  t.match(metrics.body, /whatsapp_webhook_dead_letters_total\{client_id="default",endpoint="global"\} 2/)
  t.match(metrics.body, /whatsapp_webhook_attempts_total\{client_id="default",endpoint="global",result="delivered"\} 1/)
  t.match(metrics.body, /whatsapp_webhook_queue_depth\{client_id="default",endpoint="global"\} 0/)
})

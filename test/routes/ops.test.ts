// /health, /ready, /metrics and the OpenAPI document (checked by a standard validator).
import t from 'tap'
import SwaggerParser from '@apidevtools/swagger-parser'
import { testApp } from '../app/helpers.js'

t.test('GET /health and /ready', async (t) => {
  const app = await testApp(t)
  const health = await app.inject('/health')
  t.equal(health.statusCode, 200)
  t.equal(health.json().status, 'ok')
  const ready = await app.inject('/ready')
  t.equal(ready.statusCode, 200)
  t.same({ ...ready.json(), sessions: undefined, resume: undefined }, { status: 'ready', storage: 'file', databaseReachable: null, sessions: undefined, resume: undefined })
  t.type(ready.json().sessions, 'object')
  t.match(ready.json().resume, { total: 1, failed: [] }, 'the default session is resumed in the background')
})

t.test('/ready answers 503 NOT_READY when the store cannot be reached at all', async (t) => {
  const app = await testApp(t)
  app.store.ping = async () => {
    throw new Error('boom: secret detail')
  }
  const res = await app.inject('/ready')
  t.equal(res.statusCode, 503)
  t.equal(res.json().error.code, 'NOT_READY')
  t.notMatch(res.body, /secret detail/)
})

t.test('GET /metrics: Prometheus text with the seed\'s key metrics, per-app registry', async (t) => {
  const app = await testApp(t)
  const other = await testApp(t)
  const res = await app.inject('/metrics')
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /text\/plain/)
  for (const name of [
    'whatsapp_store_writes_total',
    'whatsapp_keystore_call_duration_seconds',
    'whatsapp_db_errors_total',
    'whatsapp_session_cleanup_runs_total',
    'whatsapp_session_cleanup_removed_total',
    'whatsapp_logins_total',
    'whatsapp_pairing_codes_total',
    'whatsapp_messages_sent_total',
    'whatsapp_sessions',
  ]) {
    t.match(res.body, new RegExp(`# TYPE ${name} `), name)
  }
  t.match(res.body, /whatsapp_sessions\{state="(connecting|reconnecting|starting)"\} 1/)
  t.notMatch(res.body, /process_cpu/, 'no default (global) metrics')
  t.equal((await other.inject('/metrics')).statusCode, 200, 'a second app in the same process has its own registry')
})

t.test('OpenAPI document lists every route with tags; /docs renders', async (t) => {
  const app = await testApp(t)
  const doc = (await app.inject('/docs/json')).json()
  t.equal(doc.openapi, '3.0.3')
  const routes = Object.entries(doc.paths as Record<string, Record<string, { tags?: string[]; responses: Record<string, unknown> }>>)
    .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })))
  const keys = routes.map((r) => r.key).sort()
  t.same(keys, [
    'DELETE /api/whatsapp/sessions/{clientId}',
    'DELETE /api/whatsapp/webhook',
    'GET /api/whatsapp/contacts/check',
    'GET /api/whatsapp/events',
    'GET /api/whatsapp/events/stream',
    'GET /api/whatsapp/messages/{messageId}',
    'GET /api/whatsapp/messages/{messageId}/media',
    'GET /api/whatsapp/qr',
    'GET /api/whatsapp/session-info',
    'GET /api/whatsapp/sessions',
    'GET /api/whatsapp/status',
    'GET /api/whatsapp/webhook',
    'GET /api/whatsapp/webhook/deliveries',
    'GET /health',
    'GET /metrics',
    'GET /ready',
    'POST /api/whatsapp/cleanup-old-sessions',
    'POST /api/whatsapp/cleanup-sessions',
    'POST /api/whatsapp/pairing-code',
    'POST /api/whatsapp/reconnect',
    'POST /api/whatsapp/send',
    'POST /api/whatsapp/sessions',
    'POST /api/whatsapp/webhook/deliveries/redeliver',
    'PUT /api/whatsapp/webhook',
  ])
  for (const { key, op } of routes) {
    t.ok(op.tags && op.tags.length > 0, `${key} has tags`)
    t.ok(op.responses['200'] ?? op.responses['201'] ?? op.responses['202'], `${key} documents its success`)
  }
  t.ok(doc.components.securitySchemes.bearer)
  t.ok(doc.components.securitySchemes.apiKey)
  t.match(JSON.stringify(doc.paths['/api/whatsapp/qr'].get.responses['425']), /QR_NOT_READY/)
  t.match(JSON.stringify(doc.paths['/api/whatsapp/send'].post), /examples?/)
  const ui = await app.inject('/docs/')
  t.equal(ui.statusCode, 200)
  t.match(ui.body, /swagger/i)
})

t.test('the OpenAPI document is valid for a standard validator (with and without API_KEY)', async (t) => {
  const envs: Record<string, string>[] = [{}, { API_KEY: 'k'.repeat(32), METRICS_PUBLIC: 'true' }]
  for (const env of envs) {
    const app = await testApp(t, env, { startDefaultSession: false })
    const doc = (await app.inject('/docs/json')).json()
    await t.resolves(SwaggerParser.validate(structuredClone(doc)), `valid (${JSON.stringify(env)})`)
    t.notMatch(JSON.stringify(doc), /"examples":\[/, 'no JSON Schema examples arrays in a 3.0 document')
  }
})

// Validation never changes the request: every route x (unknown field or query key, wrong type, null,
// missing required field) answers 400 VALIDATION_FAILED naming the field, and the handler never runs.
// The routes and their fields come from the app's own OpenAPI document, so a new route is covered
// without touching this file.
import t, { type Test } from 'tap'
import { testApp } from '../app/helpers.js'
import type { App } from '../../src/app.js'

interface Schema {
  type?: string | string[]
  properties?: Record<string, Schema>
  required?: string[]
  example?: unknown
  enum?: unknown[]
  minimum?: number
  default?: unknown
  /** A body with variants (POST /send): each variant is checked as a body of its own. */
  oneOf?: Schema[]
}
interface Operation {
  parameters?: { in: string; name: string; required?: boolean; schema: Schema }[]
  requestBody?: { content: Record<string, { schema: Schema }> }
}
interface Route {
  method: string
  url: string
  query: string[]
  requiredQuery: string[]
  body: Schema | null
}

const env = { RATE_LIMIT_MAX: '100000', SEND_RATE_LIMIT_MAX: '100000' }

async function routesOf(app: App): Promise<Route[]> {
  const doc = (await app.inject('/docs/json')).json() as { paths: Record<string, Record<string, Operation>> }
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).flatMap(([method, op]) => {
      const body = op.requestBody?.content['application/json']?.schema ?? null
      return (body?.oneOf ?? [body]).map((variant) => ({
        method: method.toUpperCase(),
        url: path.replace(/\{(\w+)\}/g, 'some-$1'),
        query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
        // Required query parameters get a valid value, so each case is wrong in one way only.
        requiredQuery: (op.parameters ?? [])
          .filter((p) => p.in === 'query' && p.required)
          .map((p) => `${p.name}=${encodeURIComponent(String(validValue(p.schema)))}`),
        body: variant,
      }))
    }),
  )
}

/** A value of the property's type that satisfies it (the documented example when there is one). */
function validValue(schema: Schema): unknown {
  if (schema.example !== undefined) return schema.example
  if (schema.enum) return schema.enum[0]
  if (schema.type === 'integer' || schema.type === 'number') return schema.minimum ?? 1
  if (schema.type === 'boolean') return true
  if (schema.type === 'object') return validBody(schema)
  return 'x'
}

/** Values of the wrong JSON type, including the text forms a coercing validator would accept. */
function wrongValues(schema: Schema): unknown[] {
  if (schema.type === 'integer' || schema.type === 'number') return [String(validValue(schema)), true]
  if (schema.type === 'boolean') return ['false', 0, 'true', 1]
  if (schema.type === 'string') return [123, true, ['a']]
  return ['x']
}

function validBody(schema: Schema): Record<string, unknown> {
  return Object.fromEntries((schema.required ?? []).map((name) => [name, validValue(schema.properties?.[name] ?? {})]))
}

type Request = { method: string; url: string; payload?: Record<string, unknown> }

async function expect400(t: Test, app: App, request: Request, field: string) {
  const res = await app.inject({ ...request, method: request.method as 'GET' })
  const what = `${request.method} ${request.url} ${JSON.stringify(request.payload) ?? ''}`
  t.equal(res.statusCode, 400, `${what}: 400`)
  const body = res.json()
  t.equal(body.error?.code, 'VALIDATION_FAILED', `${what}: VALIDATION_FAILED`)
  t.ok(body.error?.details?.some((d: { field: string }) => d.field === field), `${what}: names ${field} (${JSON.stringify(body.error?.details)})`)
  t.match(body.error?.message, field, `${what}: the message names it too`)
}

t.test('every route x (unknown query key, unknown field, wrong type, null, missing): 400 naming the field', async (t) => {
  const app = await testApp(t, env, { startDefaultSession: false })
  const routes = await routesOf(app)
  t.ok(routes.length >= 14, `${routes.length} routes`)
  for (const route of routes) {
    const base = { method: route.method, url: route.url }
    const body = route.body ? validBody(route.body) : undefined
    const query = (...extra: string[]) => `${route.url}?${[...route.requiredQuery, ...extra].join('&')}`
    await expect400(t, app, { ...base, url: query('unknownKey=1'), payload: body }, 'querystring.unknownKey')
    for (const name of route.query) {
      // A key given twice is an array, never silently its first or last value.
      const others = route.requiredQuery.filter((q) => !q.startsWith(`${name}=`))
      await expect400(t, app, { ...base, url: `${route.url}?${[...others, `${name}=a`, `${name}=b`].join('&')}`, payload: body }, `querystring.${name}`)
    }
    if (!route.body || !body) continue
    await expect400(t, app, { ...base, payload: { ...body, unknownField: 'x' } }, 'body.unknownField')
    for (const [name, schema] of Object.entries(route.body.properties ?? {})) {
      for (const wrong of [...wrongValues(schema), null]) await expect400(t, app, { ...base, payload: { ...body, [name]: wrong } }, `body.${name}`)
    }
    for (const name of route.body.required ?? []) {
      // A field with a documented default may be left out (POST /send: type defaults to text).
      if (route.body.properties?.[name]?.default !== undefined) continue
      const { [name]: _omitted, ...rest } = body
      await expect400(t, app, { ...base, payload: rest }, `body.${name}`)
    }
  }
})

t.test('a clientId under another spelling never falls back to the default session', async (t) => {
  const app = await testApp(t, env)
  const send = { method: 'POST', url: '/api/whatsapp/send' }
  const message = { to: '+15550002222', text: 'x' }
  await expect400(t, app, { ...send, payload: { ...message, client_id: 'shop-2' } }, 'body.client_id')
  await expect400(t, app, { ...send, payload: { ...message, clientID: 'shop-2' } }, 'body.clientID')
  await expect400(t, app, { ...send, url: '/api/whatsapp/send?client_id=shop-2', payload: message }, 'querystring.client_id')
  const sent = await app.inject('/metrics')
  t.match(sent.body, /whatsapp_messages_sent_total\{result="ok"\} 0/, 'nothing was sent')
})

t.test('POST /cleanup-old-sessions: dryRun must be a JSON boolean; nothing is deleted otherwise', async (t) => {
  const app = await testApp(t, env)
  const cleanup = { method: 'POST', url: '/api/whatsapp/cleanup-old-sessions' }
  for (const dryRun of [null, 0, 'false']) await expect400(t, app, { ...cleanup, payload: { dryRun } }, 'body.dryRun')
  await expect400(t, app, { ...cleanup, payload: { olderThanDays: '30' } }, 'body.olderThanDays')
  const metrics = await app.inject('/metrics')
  t.notMatch(metrics.body, /whatsapp_session_cleanup_runs_total\{[^}]*\} [1-9]/, 'no cleanup ran')
  const ok = await app.inject({ ...cleanup, payload: { dryRun: true, olderThanDays: 30 } })
  t.equal(ok.statusCode, 200, 'JSON types are accepted')
})

t.test('POST /sessions: clientId must be a string', async (t) => {
  const app = await testApp(t, env)
  for (const clientId of [123, true, ['a']]) {
    await expect400(t, app, { method: 'POST', url: '/api/whatsapp/sessions', payload: { clientId } }, 'body.clientId')
  }
  t.same(app.sessions.list().map((s) => s.clientId), ['default'], 'no session "123", "true" or "a" was started')
})

t.test('POST /cleanup-sessions takes no options; GET /qr?format is case-sensitive', async (t) => {
  const app = await testApp(t, env)
  await expect400(t, app, { method: 'POST', url: '/api/whatsapp/cleanup-sessions', payload: { everything: true } }, 'body.everything')
  t.equal((await app.inject({ method: 'POST', url: '/api/whatsapp/cleanup-sessions', payload: {} })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/api/whatsapp/cleanup-sessions' })).statusCode, 200, 'or no body at all')
  await expect400(t, app, { method: 'GET', url: '/api/whatsapp/qr?format=PNG' }, 'querystring.format')
})

t.test('a JSON null body is not taken for a missing one', async (t) => {
  const app = await testApp(t, env)
  const res = await app.inject({ method: 'POST', url: '/api/whatsapp/reconnect', headers: { 'content-type': 'application/json' }, payload: 'null' })
  t.equal(res.statusCode, 400)
  t.equal(res.json().error.code, 'VALIDATION_FAILED')
})

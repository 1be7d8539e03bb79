// No answer outside the one error shape: { error: { code, message, details? }, requestId }, with a code
// from the catalogue and that code's status - for Fastify's own errors (404, 413, 415, bad JSON, an
// undecodable URL, a path parameter too long), for what Node rejects before Fastify sees it (431,
// 408), and for requests that arrive while the server shuts down (503).
import t, { type Test } from 'tap'
import { errorCatalogue, type ErrorCode } from '../../src/errors.js'
import type { App } from '../../src/app.js'
import { bearer, parseResponses, rawHttp, testApp, waitFor } from './helpers.js'

const KEY = 'k'.repeat(32)

/** Asserts the one error shape with this code, and that the request id is the x-request-id header. */
function assertShape(t: Test, what: string, res: { status: number; headers: Record<string, unknown>; body: string }, code: ErrorCode) {
  let body: { error?: { code?: string; message?: string; details?: unknown }; requestId?: string } = {}
  try {
    body = JSON.parse(res.body)
  } catch {
    t.fail(`${what}: the body is JSON (${res.body.slice(0, 200)})`)
    return
  }
  t.equal(res.status, errorCatalogue[code].status, `${what}: status ${errorCatalogue[code].status}`)
  t.same(Object.keys(body).sort(), ['error', 'requestId'], `${what}: error and requestId only`)
  t.equal(body.error?.code, code, `${what}: ${code}`)
  t.ok(Object.keys(body.error ?? {}).every((k) => ['code', 'message', 'details'].includes(k)), `${what}: error has code, message, details only`)
  t.ok((body.error?.message?.length ?? 0) > 20, `${what}: a sentence`)
  t.equal(res.headers['x-request-id'], body.requestId, `${what}: requestId is the x-request-id header`)
}

const injected = (res: { statusCode: number; headers: Record<string, unknown>; body: string }) =>
  ({ status: res.statusCode, headers: res.headers, body: res.body })

async function postRoutes(app: App): Promise<string[]> {
  const doc = (await app.inject('/docs/json')).json() as { paths: Record<string, Record<string, unknown>> }
  return Object.entries(doc.paths).filter(([, ops]) => 'post' in ops).map(([path]) => path)
}

t.test('Fastify\'s own errors, on every route that takes a body', async (t) => {
  const app = await testApp(t, { RATE_LIMIT_MAX: '100000', SEND_RATE_LIMIT_MAX: '100000' }, { startDefaultSession: false })
  const posts = await postRoutes(app)
  t.ok(posts.length >= 6, `${posts.length} POST routes`)
  for (const url of posts) {
    const json = { 'content-type': 'application/json' }
    assertShape(t, `${url} bad JSON`, injected(await app.inject({ method: 'POST', url, headers: json, payload: '{oops' })), 'INVALID_JSON')
    assertShape(t, `${url} empty JSON`, injected(await app.inject({ method: 'POST', url, headers: json, payload: '' })), 'INVALID_JSON')
    const big = JSON.stringify({ text: 'x'.repeat(300 * 1024) })
    assertShape(t, `${url} 300 KiB`, injected(await app.inject({ method: 'POST', url, headers: json, payload: big })), 'PAYLOAD_TOO_LARGE')
    for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded']) {
      const res = await app.inject({ method: 'POST', url, headers: { 'content-type': type }, payload: 'to=1&text=x' })
      assertShape(t, `${url} ${type}`, injected(res), 'UNSUPPORTED_MEDIA_TYPE')
    }
  }
  for (const [method, url] of [['GET', '/nope'], ['POST', '/api/whatsapp/nope'], ['DELETE', '/api/whatsapp/status'], ['PUT', '/api/whatsapp/sessions']]) {
    assertShape(t, `${method} ${url}`, injected(await app.inject({ method: method as 'GET', url })), 'NOT_FOUND')
  }
  // A plugin's own 4xx (the docs' static file server refusing a NUL byte) gets a specific code too.
  assertShape(t, 'NUL in a static path', injected(await app.inject('/docs/static/a%00b')), 'FORBIDDEN')
})

t.test('an undecodable URL and a path parameter too long; a 128-character client id is routed', async (t) => {
  const app = await testApp(t, {}, { startDefaultSession: false })
  for (const url of ['/api/whatsapp/%ff', '/api/whatsapp/sessions/%ff', '/%E0%A4%A']) {
    assertShape(t, `DELETE ${url}`, injected(await app.inject({ method: 'DELETE', url })), 'BAD_URL')
  }
  assertShape(t, 'DELETE 1000 characters', injected(await app.inject({ method: 'DELETE', url: `/api/whatsapp/sessions/${'a'.repeat(1000)}` })), 'URL_TOO_LONG')
  const longest = await app.inject({ method: 'DELETE', url: `/api/whatsapp/sessions/${'a'.repeat(128)}` })
  assertShape(t, 'DELETE 128 characters', injected(longest), 'STORED_SESSION_NOT_FOUND')
  const tooLong = await app.inject({ method: 'DELETE', url: `/api/whatsapp/sessions/${'a'.repeat(129)}` })
  assertShape(t, 'DELETE 129 characters', injected(tooLong), 'VALIDATION_FAILED')
  t.equal(tooLong.json().error.details[0].field, 'params.clientId')
})

t.test('with API_KEY set, an undecodable URL needs the key like any other request', async (t) => {
  const app = await testApp(t, { API_KEY: KEY }, { startDefaultSession: false })
  assertShape(t, 'no key', injected(await app.inject({ method: 'GET', url: '/api/whatsapp/%ff' })), 'UNAUTHORIZED')
  assertShape(t, 'with the key', injected(await app.inject({ method: 'GET', url: '/api/whatsapp/%ff', headers: bearer(KEY) })), 'BAD_URL')
})

t.test('Node\'s own rejections: headers too large (431), malformed HTTP (400)', async (t) => {
  const app = await testApp(t, {}, { startDefaultSession: false })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as { port: number }).port
  const huge = await rawHttp(port, `GET /health HTTP/1.1\r\nHost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`)
  const [tooLarge] = parseResponses(huge)
  t.ok(tooLarge, `an answer (${huge.slice(0, 100)})`)
  if (tooLarge) assertShape(t, '20 KB header', tooLarge, 'HEADERS_TOO_LARGE')
  const garbage = await rawHttp(port, 'GET /health HTTP/1.1\r\nHost x\r\n\r\n')
  const [malformed] = parseResponses(garbage)
  t.ok(malformed, `an answer (${garbage.slice(0, 100)})`)
  if (malformed) assertShape(t, 'malformed header line', malformed, 'BAD_REQUEST')
})

t.test('a request that never finishes arriving: 408 REQUEST_TIMEOUT after REQUEST_TIMEOUT_MS', async (t) => {
  const app = await testApp(t, { REQUEST_TIMEOUT_MS: '500' }, { startDefaultSession: false })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as { port: number }).port
  // Announces 100 bytes and sends none: without a request timeout the connection is held forever.
  const text = await rawHttp(port, 'POST /api/whatsapp/send HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n')
  const [res] = parseResponses(text)
  t.ok(res, `an answer (${text.slice(0, 100)})`)
  if (res) assertShape(t, 'Content-Length without a body', res, 'REQUEST_TIMEOUT')
})

t.test('a request arriving while the server shuts down: 503 SHUTTING_DOWN', async (t) => {
  const app = await testApp(t, {}, { startDefaultSession: false })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as { port: number }).port
  // GET /ready waits on the store's ping, which this test holds, so the connection is busy when
  // close() begins; the second, pipelined request is read only after that, during the shutdown.
  let pinged!: () => void
  const pingStarted = new Promise<void>((resolve) => (pinged = resolve))
  let answerPing!: (reachable: null) => void
  app.store.ping = () => {
    pinged()
    return new Promise((resolve) => (answerPing = resolve))
  }
  let closing: Promise<unknown> = Promise.resolve()
  const text = await rawHttp(port, 'GET /ready HTTP/1.1\r\nHost: x\r\n\r\n', async (socket) => {
    await pingStarted
    closing = app.close()
    // The server stops listening once close() has begun (after the preClose hooks).
    t.ok(await waitFor(() => !app.server.listening, 30_000), 'close() has begun')
    // Node reads the pipelined request while the first is in progress; answer the first after that.
    const secondRead = new Promise((resolve) => app.server.once('request', resolve))
    socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n')
    await secondRead
    answerPing(null)
  })
  await closing
  const [ready, health] = parseResponses(text)
  t.equal(ready?.status, 200, 'the request in progress is answered')
  t.ok(health, `the next one too (${text.slice(-300)})`)
  if (health) {
    assertShape(t, 'during shutdown', health, 'SHUTTING_DOWN')
    t.equal(health.headers.connection, 'close')
  }
})

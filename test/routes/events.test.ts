// GET /events and GET /events/stream over a real app (file mode, no WhatsApp): pages, strict query,
// auth, and the live stream: replay after Last-Event-ID or ?after=, then new appends, heartbeats, and
// the end of the stream when the app closes.
import t from 'tap'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import pino from 'pino'
import { buildApp } from '../../src/app.js'
import { createFileOutbox } from '../../src/events/store/file.js'
import { testApp, testConfig, waitFor } from '../app/helpers.js'
import type { NewEvent } from '../../src/events/types.js'
import { eventFrames as events, sseReader } from '../helpers/sse.js'

const ev = (n: number): NewEvent => ({ type: 'session.status', timestamp: '2025-01-01T00:00:00.000Z', data: { n } })

t.test('GET /events: pages after a seq, strict query, lastSeq and next', async (t) => {
  const app = await testApp(t, { CLIENT_ID: 'main', API_KEY: 'k'.repeat(40) }, { startDefaultSession: false })
  const auth = { authorization: `Bearer ${'k'.repeat(40)}` }
  await app.events.outbox.append('main', Array.from({ length: 5 }, (_, i) => ev(i + 1)))
  await app.events.outbox.append('other', [ev(99)])

  const all = await app.inject({ method: 'GET', url: '/api/whatsapp/events', headers: auth })
  t.equal(all.statusCode, 200)
  t.same(all.json().events.map((e: { seq: number }) => e.seq), [1, 2, 3, 4, 5], 'the default session, from the oldest')
  t.match(all.json(), { clientId: 'main', lastSeq: 5, next: 5 })
  t.same(all.json().events[0].data, { n: 1 }, 'the body as stored')
  t.match(all.json().events[0], { type: 'session.status', clientId: 'main', timestamp: '2025-01-01T00:00:00.000Z', id: /^evt_/ })

  const page = await app.inject({ method: 'GET', url: '/api/whatsapp/events?after=1&limit=2', headers: auth })
  t.same(page.json().events.map((e: { seq: number }) => e.seq), [2, 3])
  t.match(page.json(), { lastSeq: 5, next: 3 })
  const end = await app.inject({ method: 'GET', url: '/api/whatsapp/events?after=5', headers: auth })
  t.match(end.json(), { events: [], lastSeq: 5, next: 5 })
  const other = await app.inject({ method: 'GET', url: '/api/whatsapp/events?clientId=other', headers: auth })
  t.same(other.json().events.map((e: { data: unknown }) => e.data), [{ n: 99 }])
  const none = await app.inject({ method: 'GET', url: '/api/whatsapp/events?clientId=nobody', headers: auth })
  t.match(none.json(), { events: [], lastSeq: 0, next: 0 })

  for (const bad of ['limit=0', 'limit=1001', 'after=-1', 'after=x', 'since=1', 'clientId=.bad']) {
    const res = await app.inject({ method: 'GET', url: `/api/whatsapp/events?${bad}`, headers: auth })
    t.equal(res.statusCode, 400, `${bad}: 400`)
    t.equal(res.json().error.code, 'VALIDATION_FAILED')
  }
  t.equal((await app.inject({ method: 'GET', url: '/api/whatsapp/events' })).statusCode, 401, 'the API key is required')
  t.equal((await app.inject({ method: 'GET', url: '/api/whatsapp/events/stream' })).statusCode, 401, 'also for the stream')
})

t.test('GET /events/stream: replay after Last-Event-ID, then live appends, heartbeats, ends on close', async (t) => {
  const app = await testApp(t, { CLIENT_ID: 'main' }, { startDefaultSession: false, eventsHeartbeatMs: 50 })
  await app.events.outbox.append('main', [ev(1), ev(2), ev(3)])
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`

  const res = await fetch(`${base}/api/whatsapp/events/stream`, { headers: { 'last-event-id': '1' } })
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^text\/event-stream/)
  const stream = sseReader(res)
  const first = await stream.read((f) => events(f).length >= 2)
  t.same(events(first).map((f) => f.id), ['2', '3'], 'replayed after Last-Event-ID')
  const second = events(first)[0]!
  t.equal(second.event, 'session.status')
  t.match(JSON.parse(second.data!), { seq: 2, clientId: 'main', type: 'session.status', data: { n: 2 }, id: /^evt_/ })

  await app.events.outbox.append('other', [ev(50)])
  await app.events.outbox.append('main', [ev(4), ev(5)])
  const live = await stream.read((f) => events(f).length >= 2 && f.some((x) => x.comment === 'heartbeat'))
  t.same(events(live).map((f) => f.id), ['4', '5'], 'then what is appended, only for this session')
  t.ok(live.some((f) => f.comment === 'heartbeat'), 'heartbeat comments')

  const viaQuery = sseReader(await fetch(`${base}/api/whatsapp/events/stream?after=4`))
  t.same(events(await viaQuery.read((f) => events(f).length >= 1)).map((f) => f.id), ['5'], '?after= without the header')
  const badHeader = await fetch(`${base}/api/whatsapp/events/stream`, { headers: { 'last-event-id': 'abc' } })
  t.equal(badHeader.status, 400)

  await app.close()
  await stream.read(() => false)
  t.ok(stream.ended, 'the stream ends when the app closes')
  await viaQuery.read(() => false)
  t.ok(viaQuery.ended)
})

t.test('the producer sees a session from its first state to its last: stopped is stored at app.close()', async (t) => {
  const config = await testConfig(t, { CLIENT_ID: 'main' })
  const app = await buildApp({ config, logger: pino({ level: 'silent' }) })
  await waitFor(() => app.sessions.find('main')?.state !== 'starting')
  await app.close()
  const outbox = createFileOutbox({ dir: join(config.sessionPath, '.events') })
  t.teardown(() => outbox.close())
  const states = (await outbox.after('main', 0, 100)).filter((e) => e.type === 'session.status').map((e) => e.data)
  t.match(states[0], { previous: 'starting' }, 'from the first change on')
  t.match(states.at(-1), { state: 'stopped' }, 'to the last one, after the outbox plugin\'s neighbours closed')
})

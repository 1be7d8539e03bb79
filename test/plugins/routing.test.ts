// Request routing between two real instances (HTTP listeners on 127.0.0.1, one migrated database, the
// real instance registry): a request for a session held by the other instance is forwarded there with
// its API key, request id and body intact (over 1 MB too, multipart and JSON), never twice; 503 with
// Retry-After while nobody holds it or when the holder does not answer; on Fly.io an empty answer with
// `fly-replay` naming the holder's Machine, and forwarding for bodies Fly will not replay.
import t, { type Test } from 'tap'
import net from 'node:net'
import { randomBytes } from 'node:crypto'
import type { App } from '../../src/app.js'
import { preferredInstance } from '../../src/cluster/placement.js'
import { closedPort, testApp, waitFor } from '../app/helpers.js'
import { createMigratedDatabase } from '../helpers/db.js'

const KEY = 'routing-test-key-0123456789'
const auth = { authorization: `Bearer ${KEY}` }

/** A TCP pass-through in front of an instance that keeps every byte the callers sent. */
async function recordingProxy(targetPort: number) {
  const received: Buffer[] = []
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1')
    client.on('data', (chunk) => {
      received.push(chunk)
      upstream.write(chunk)
    })
    upstream.pipe(client)
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.end())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  return {
    port,
    bytes: () => Buffer.concat(received),
    reset: () => received.splice(0),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

interface Instance { app: App; port: number; base: string }

/** Two instances on one database; B advertises itself through a recording proxy. */
async function twoInstances(t: Test, env: Record<string, string>, flyIds?: [string, string]) {
  const { url, sql } = await createMigratedDatabase(t, 'wa_routing')
  const [portA, portB] = [await closedPort(), await closedPort()]
  const proxy = await recordingProxy(portB)
  t.teardown(() => proxy.close())
  const common = { DATABASE_URL: url, API_KEY: KEY, LEASE_TTL_MS: '3000', ...env }
  const start = async (port: number, internalUrl: string, fly?: string): Promise<Instance> => {
    const app = await testApp(t, { ...common, INTERNAL_URL: internalUrl, ...(fly ? { FLY_MACHINE_ID: fly } : {}) }, { startDefaultSession: false })
    await app.listen({ port, host: '127.0.0.1' })
    return { app, port, base: `http://127.0.0.1:${port}` }
  }
  const a = await start(portA, `http://127.0.0.1:${portA}`, flyIds?.[0])
  const b = await start(portB, `http://127.0.0.1:${proxy.port}`, flyIds?.[1])
  const ids = [a.app.config.lease.owner, b.app.config.lease.owner]
  t.ok(await waitFor(() => (a.app.cluster.registry?.snapshot()?.length ?? 0) === 2 && (b.app.cluster.registry?.snapshot()?.length ?? 0) === 2, 15_000), 'both instances registered')
  // A session placement gives to B, created on B: B holds it.
  const clientId = Array.from({ length: 200 }, (_, i) => `alpha-${i}`).find((id) => preferredInstance(id, ids) === ids[1])!
  const created = await fetch(`${b.base}/api/whatsapp/sessions`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ clientId }) })
  t.equal(created.status, 201)
  t.ok(await waitFor(() => b.app.sessions.find(clientId)?.leaseState()?.role === 'holder', 15_000), 'B holds the session')
  return { a, b, sql, proxy, clientId }
}

/** A multipart form with a text field part list and one file part, as bytes with a known length. */
function multipart(fields: Record<string, string>, file: Buffer): { body: Blob; bytes: Buffer; type: string } {
  const boundary = `----routing${randomBytes(8).toString('hex')}`
  const parts: Buffer[] = []
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`))
  }
  parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="big.bin"\r\ncontent-type: application/octet-stream\r\n\r\n`))
  parts.push(file, Buffer.from(`\r\n--${boundary}--\r\n`))
  return { body: new Blob([new Uint8Array(Buffer.concat(parts))]), bytes: Buffer.concat(parts), type: `multipart/form-data; boundary=${boundary}` }
}

t.test('forwarding to the holder\'s internal address', async (t) => {
  const { a, b, sql, proxy, clientId } = await twoInstances(t, { SEND_BODY_MAX_BYTES: '4194304' })
  const bId = b.app.config.lease.owner

  // Not running on A at all: answered by B, with the caller's request id, through one hop.
  proxy.reset()
  const status = await fetch(`${a.base}/api/whatsapp/status?clientId=${clientId}`, { headers: { ...auth, 'x-request-id': 'req-routing-1' } })
  t.equal(status.status, 200)
  t.equal((await status.json()).clientId, clientId)
  t.equal(status.headers.get('x-request-id'), 'req-routing-1')
  t.notOk(a.app.sessions.find(clientId)?.leaseState()?.role === 'holder', 'A does not hold it')
  const sent = proxy.bytes().toString('latin1')
  t.match(sent, `authorization: Bearer ${KEY}`, 'the API key travels with the request')
  t.match(sent, 'x-request-id: req-routing-1')
  t.match(sent, `x-wa-forwarded-by: ${a.app.config.lease.owner}`, 'the hop header names the forwarding instance')

  // Authentication happens before routing: no key, no forwarding.
  proxy.reset()
  const anonymous = await fetch(`${a.base}/api/whatsapp/status?clientId=${clientId}`)
  t.equal(anonymous.status, 401)
  t.equal(proxy.bytes().length, 0)

  // An error answer of the holder comes back as it was, with the one request id.
  const qr = await fetch(`${a.base}/api/whatsapp/qr?clientId=${clientId}`, { headers: auth })
  const qrBody = await qr.json()
  t.equal(qrBody.requestId, qr.headers.get('x-request-id'))
  t.not(qrBody.error?.code, 'SESSION_NOT_FOUND', 'the holder answered, not A')

  // A multipart upload over 1 MB is streamed to B untouched, before A reads it.
  const file = randomBytes(1_500_000)
  const form = multipart({ type: 'document', to: '+14155550123', fileName: 'big.bin' }, file)
  const direct = await fetch(`${b.base}/api/whatsapp/send?clientId=${clientId}`, { method: 'POST', headers: { ...auth, 'content-type': form.type }, body: form.body })
  const directBody = await direct.json()
  proxy.reset()
  const upload = await fetch(`${a.base}/api/whatsapp/send?clientId=${clientId}`, { method: 'POST', headers: { ...auth, 'content-type': form.type }, body: form.body })
  t.equal(upload.status, direct.status, 'the same answer as from the holder itself')
  t.equal((await upload.json()).error?.code, directBody.error?.code)
  const uploaded = proxy.bytes()
  t.ok(uploaded.includes(file), 'the file reached the holder byte for byte')
  t.ok(uploaded.includes(form.bytes), 'the whole form, unchanged')

  // An upload naming the session only in a form field is routed by its query (here: the default
  // session, held by nobody); once read it cannot be forwarded: 421 saying to use the query string.
  const small = multipart({ clientId, type: 'document', to: '+14155550123', fileName: 'a.bin' }, randomBytes(1000))
  const misdirected = await fetch(`${a.base}/api/whatsapp/send`, { method: 'POST', headers: { ...auth, 'content-type': small.type }, body: small.body })
  t.equal(misdirected.status, 421)
  t.equal((await misdirected.json()).error.code, 'MISDIRECTED_UPLOAD')

  // A JSON body over 1 MB naming the session in the body.
  const base64 = randomBytes(900_000).toString('base64')
  proxy.reset()
  const json = await fetch(`${a.base}/api/whatsapp/send`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ clientId, type: 'document', to: '+14155550123', fileName: 'a.bin', media: { base64 } }),
  })
  t.ok(base64.length > 1_000_000)
  t.ok(proxy.bytes().includes(Buffer.from(base64)), 'the JSON body reached the holder')
  t.not((await json.json()).error?.code, 'SESSION_NOT_FOUND')

  // A JSON body that is not an object travels as sent: the holder answers it (no hang on Content-Length).
  const nullBody = await fetch(`${a.base}/api/whatsapp/reconnect?clientId=${clientId}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: 'null' })
  t.equal(nullBody.status, 400)
  t.equal((await nullBody.json()).error.code, 'VALIDATION_FAILED')

  // A request that already hopped is never forwarded again: served by the holder, 503 elsewhere.
  const hopAtB = await fetch(`${b.base}/api/whatsapp/status?clientId=${clientId}`, { headers: { ...auth, 'x-wa-forwarded-by': 'someone' } })
  t.equal(hopAtB.status, 200)
  proxy.reset()
  const hopAtA = await fetch(`${a.base}/api/whatsapp/status?clientId=${clientId}`, { headers: { ...auth, 'x-wa-forwarded-by': 'someone' } })
  t.equal(hopAtA.status, 503)
  t.equal((await hopAtA.json()).error.code, 'SESSION_MOVING')
  t.equal(proxy.bytes().length, 0, 'nothing sent on')

  // Nobody holds a linked session (its lease expired: its instance died): 503 with Retry-After (the lease ttl).
  await sql`INSERT INTO whatsapp_session_leases (client_id, owner, fencing_token, expires_at) VALUES ('moving', 'gone', 1, now() - interval '1 second')`
  await sql`INSERT INTO whatsapp_sessions (client_id, status) VALUES ('moving', 'active')`
  const moving = await fetch(`${a.base}/api/whatsapp/status?clientId=moving`, { headers: auth })
  t.equal(moving.status, 503)
  t.equal(moving.headers.get('retry-after'), '3')
  t.equal((await moving.json()).error.code, 'SESSION_MOVING')
  // Message status lives in Postgres: answered here instead.
  const messageStatus = await fetch(`${a.base}/api/whatsapp/messages/ABC?clientId=moving`, { headers: auth })
  t.equal(messageStatus.status, 404)
  // (Gone again before an instance's discovery would try to resume its made-up creds.)
  await sql`DELETE FROM whatsapp_sessions WHERE client_id = 'moving'`
  // Held once but never linked (nobody resumes it), or never held anywhere: the route's own answer.
  await sql`INSERT INTO whatsapp_session_leases (client_id, owner, fencing_token, expires_at) VALUES ('unlinked', 'gone', 1, now() - interval '1 second')`
  const unlinked = await fetch(`${a.base}/api/whatsapp/status?clientId=unlinked`, { headers: auth })
  t.equal(unlinked.status, 404)
  const unknown = await fetch(`${a.base}/api/whatsapp/status?clientId=nobody`, { headers: auth })
  t.equal(unknown.status, 404)
  t.equal((await unknown.json()).error.code, 'SESSION_NOT_FOUND')

  // A holder that does not answer: 503 HOLDER_UNREACHABLE with Retry-After, not a hang.
  const deadPort = await closedPort()
  await sql`INSERT INTO whatsapp_instances (id, url) VALUES ('ghost', ${`http://127.0.0.1:${deadPort}`})`
  await sql`INSERT INTO whatsapp_session_leases (client_id, owner, fencing_token, expires_at) VALUES ('haunted', 'ghost', 1, now() + interval '1 hour')`
  const haunted = await fetch(`${a.base}/api/whatsapp/status?clientId=haunted`, { headers: auth })
  t.equal(haunted.status, 503)
  t.equal(haunted.headers.get('retry-after'), '3')
  const hauntedBody = await haunted.json()
  t.equal(hauntedBody.error.code, 'HOLDER_UNREACHABLE')
  t.equal(hauntedBody.error.details.instance, 'ghost')

  // The list is the whole cluster's, with each session's holder.
  const list = await (await fetch(`${a.base}/api/whatsapp/sessions`, { headers: auth })).json()
  const entry = list.sessions.find((s: { clientId: string }) => s.clientId === clientId)
  t.equal(entry?.holder, bId)
  t.equal(entry?.running, false, 'not running on A')
  t.equal(list.sessions.find((s: { clientId: string }) => s.clientId === 'haunted')?.holder, 'ghost')
  t.equal(list.sessions.find((s: { clientId: string }) => s.clientId === 'unlinked'), undefined, 'an expired lease of a session never stored is nobody\'s')

  // Creating a session already held elsewhere: the holder answers.
  const again = await fetch(`${a.base}/api/whatsapp/sessions`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ clientId }) })
  t.equal(again.status, 409)
  t.equal((await again.json()).error.code, 'SESSION_EXISTS')
  // Deleting it through A deletes it on B.
  const deleted = await fetch(`${a.base}/api/whatsapp/sessions/${clientId}`, { method: 'DELETE', headers: auth })
  t.equal(deleted.status, 200)
  t.equal((await deleted.json()).wasRunning, true)
  t.equal(b.app.sessions.find(clientId), undefined)
})

t.test('on Fly.io: fly-replay to the holder\'s Machine, forwarding above 1 MB', async (t) => {
  const { a, b, proxy, clientId } = await twoInstances(t, {}, ['machine-a', 'machine-b'])
  t.equal(b.app.cluster.directory?.self.flyMachineId, 'machine-b')

  proxy.reset()
  const replay = await fetch(`${a.base}/api/whatsapp/status?clientId=${clientId}`, { headers: auth })
  t.equal(replay.headers.get('fly-replay'), 'instance=machine-b')
  t.equal(replay.status, 409)
  t.equal(await replay.text(), '', 'an empty body')
  t.equal(proxy.bytes().length, 0, 'nothing forwarded: Fly\'s proxy replays it')

  // The replayed request at the holder is served there.
  const replayed = await fetch(`${b.base}/api/whatsapp/status?clientId=${clientId}`, { headers: { ...auth, 'fly-replay-src': 'instance=machine-a;region=ams;t=1' } })
  t.equal(replayed.status, 200)
  // Replayed to an instance that no longer holds it: never replayed again.
  const stale = await fetch(`${a.base}/api/whatsapp/status?clientId=${clientId}`, { headers: { ...auth, 'fly-replay-src': 'instance=machine-b;region=ams;t=1' } })
  t.equal(stale.status, 503)
  t.equal(stale.headers.get('fly-replay'), null)

  // Fly refuses to replay bodies over 1 MB: forwarded over the private network instead.
  const file = randomBytes(1_200_000)
  const form = multipart({ type: 'document', to: '+14155550123', fileName: 'big.bin' }, file)
  proxy.reset()
  const upload = await fetch(`${a.base}/api/whatsapp/send?clientId=${clientId}`, { method: 'POST', headers: { ...auth, 'content-type': form.type }, body: form.body })
  t.equal(upload.headers.get('fly-replay'), null)
  t.ok(proxy.bytes().includes(file), 'the upload reached the holder intact')
  t.not((await upload.json()).error?.code, 'SESSION_NOT_FOUND')

  // A small body is replayed like any request.
  const small = await fetch(`${a.base}/api/whatsapp/send`, {
    method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ clientId, to: '+14155550123', text: 'hi' }),
  })
  t.equal(small.headers.get('fly-replay'), 'instance=machine-b')
})

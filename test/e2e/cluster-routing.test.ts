// End to end: three server processes on one database (each advertising INTERNAL_URL) and the fake
// WhatsApp with three accounts. Sessions are created through instance a, their QR read through b
// (forwarded to a, where the session is pinned while it pairs); once placement has moved each to its
// rendezvous instance, `status`, `qr`, `send` and `session-info` of every session through every
// instance are answered by the holder (session-info names it), with at most one hop.
import t from 'tap'
import { preferredInstance } from '../../src/cluster/placement.js'
import { childDecryptFailures, untilServers, freePort, spawnServer, type ChildServer } from './child-server.js'
import { BOB, migratedDatabase, prepareProcess, receivedText, startFake, tempDir } from './harness.js'

const enforced = prepareProcess()
const IDS = Array.from({ length: 3 }, (_, i) => `rt-${i}`)
const accountOf = (i: number) => ({ pn: `1556200000${i}`, lid: `42000000000000${i}` })
const NAMES = ['a', 'b', 'c'] as const

t.test('every call for every session through every instance of three', async (t) => {
  t.ok(enforced, 'signature verification enforced')
  const fake = await startFake(t, { lidOnFirstLookupOnly: true })
  fake.addContact(BOB)
  IDS.forEach((_, i) => fake.addAccount(accountOf(i)))
  const db = await migratedDatabase(t)
  const servers = new Map<string, ChildServer>()
  for (const name of NAMES) {
    const port = await freePort()
    servers.set(name, await spawnServer(t, {
      name,
      env: {
        DATABASE_URL: db.url, SESSION_PATH: await tempDir(t, `wa-rt-${name}-`), CLIENT_ID: 'rt-default', WA_WS_URL: fake.url,
        INSTANCE_ID: name, PORT: String(port), INTERNAL_URL: `http://127.0.0.1:${port}`,
      },
    }))
  }
  const a = servers.get('a') as ChildServer
  const b = servers.get('b') as ChildServer
  const owners = async () => new Map((await db.sql<{ id: string }[]>`SELECT id FROM whatsapp_instances`).map((r) => [r.id.split(':')[0] as string, r.id]))
  await untilServers('three live instances', async () => (await owners()).size === 3, 15_000)

  for (const [i, id] of IDS.entries()) {
    t.equal((await a.post('/api/whatsapp/sessions', { clientId: id })).status, 201, `${id} created on a`)
    // Pinned to a while it pairs; its QR is asked of b.
    const qr = await untilServers(`a QR for ${id} through b`, async () => {
      const res = await b.get(`/api/whatsapp/qr?clientId=${id}`)
      return res.status === 200 && (res.body.qr as string)
    }, 20_000)
    await fake.scanQR(qr, accountOf(i))
    await untilServers(`${id} open (asked of b)`, async () => (await b.get(`/api/whatsapp/status?clientId=${id}`)).body?.state === 'open', 20_000)
  }

  // Placement moves each session to its rendezvous instance.
  const ids = await owners()
  const live = NAMES.map((n) => ids.get(n) as string)
  const want = new Map(IDS.map((id) => [id, preferredInstance(id, live) as string]))
  await untilServers('every session held by its rendezvous instance', async () => {
    const rows = await db.sql<{ client_id: string; owner: string }[]>`SELECT client_id, owner FROM whatsapp_session_leases WHERE expires_at > now() AND client_id LIKE 'rt-_'`
    const held = new Map(rows.map((r) => [r.client_id, r.owner]))
    for (const id of IDS) {
      if (held.get(id) !== want.get(id)) return false
      const holder = servers.get(want.get(id)!.split(':')[0] as string) as ChildServer
      if ((await holder.get(`/api/whatsapp/status?clientId=${id}`)).body?.state !== 'open') return false
    }
    return true
  }, 90_000)
  t.comment(`placement: ${JSON.stringify(Object.fromEntries([...want].map(([id, owner]) => [id, owner.split(':')[0]])))}`)

  for (const id of IDS) {
    for (const server of servers.values()) {
      const via = `${id} via ${server.name}`
      const status = await server.get(`/api/whatsapp/status?clientId=${id}`)
      t.match({ code: status.status, state: status.body.state, clientId: status.body.clientId }, { code: 200, state: 'open', clientId: id }, `status of ${via}`)
      const info = await server.get(`/api/whatsapp/session-info?clientId=${id}`)
      t.equal(info.status, 200, `session-info of ${via}`)
      t.match(info.body.lease, { role: 'holder', owner: want.get(id) }, `${via}: answered by the holder`)
      const qr = await server.get(`/api/whatsapp/qr?clientId=${id}`)
      t.equal(qr.body.error?.code, 'ALREADY_CONNECTED', `qr of ${via}: the holder says it is linked (${qr.status})`)
      const text = `routed ${via}`
      const sent = await server.post(`/api/whatsapp/send?clientId=${id}`, { to: BOB.pn, text })
      t.equal(sent.status, 200, `send of ${via} (${JSON.stringify(sent.body)})`)
      await receivedText(fake, text)
    }
  }

  const list = (await b.get('/api/whatsapp/sessions')).body
  t.same(
    Object.fromEntries(list.sessions.filter((s: { clientId: string }) => IDS.includes(s.clientId)).map((s: { clientId: string; holder: string }) => [s.clientId, s.holder])),
    Object.fromEntries(want),
    'GET /sessions on any instance lists every session with its holder',
  )
  t.equal(fake.conflictsSent(), 0, 'the fake never sent a 440')
  t.same(IDS.map((_, i) => fake.maxConcurrentConnections(accountOf(i).pn)), IDS.map(() => 1), 'never two sockets for one account')
  t.same(fake.errors(), { internal: [], decrypt: [], unhandledIqs: [] }, 'no Bad MAC at the fake')
  t.same([...servers.values()].flatMap(childDecryptFailures), [], 'no instance logged a decryption failure')
  for (const server of servers.values()) server.kill('SIGTERM')
  for (const server of servers.values()) t.equal((await server.exited).code, 0, `${server.name} exits 0 on SIGTERM`)
})

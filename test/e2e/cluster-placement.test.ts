// End to end: three server processes on one database and the fake WhatsApp with six accounts. Every
// session is created and paired through instance a after b and c had started (pinned to a while it
// pairs), then placement moves each to its rendezvous instance by clean hand-overs; kill -9 of one
// instance: the survivors open its sessions (spread by rendezvous over them) within the takeover
// bound; a new instance joins: the sessions it now wins move to it, again only by clean hand-overs.
// Throughout, the fake never sees two sockets for one account nor sends a 440, and every
// conversation goes on without a decryption failure.
import t from 'tap'
import { balancedPlacement } from '../../src/cluster/placement.js'
import { childDecryptFailures, untilServers, spawnServer, type ChildServer } from './child-server.js'
import { BOB, contactWritesAndAppDecrypts, migratedDatabase, prepareProcess, receivedText, startFake, tempDir } from './harness.js'

const enforced = prepareProcess()
const IDS = Array.from({ length: 6 }, (_, i) => `cp-${i}`)
const accountOf = (i: number) => ({ pn: `1556100000${i}`, lid: `41000000000000${i}` })

t.test('placement across three instances: balanced, kill -9 failover, join rebalance; no 440, one socket per account', async (t) => {
  t.ok(enforced, 'signature verification enforced')
  const fake = await startFake(t, { lidOnFirstLookupOnly: true })
  fake.addContact(BOB)
  IDS.forEach((_, i) => fake.addAccount(accountOf(i)))
  const db = await migratedDatabase(t)
  const servers = new Map<string, ChildServer>()
  const start = async (name: string) => {
    const server = await spawnServer(t, {
      name,
      env: { DATABASE_URL: db.url, SESSION_PATH: await tempDir(t, `wa-cp-${name}-`), CLIENT_ID: 'cp-default', WA_WS_URL: fake.url, INSTANCE_ID: name },
    })
    servers.set(name, server)
    return server
  }
  /** Registered instance ids (lease owners) by INSTANCE_ID. */
  const ownerIds = async () => {
    const rows = await db.sql<{ id: string }[]>`SELECT id FROM whatsapp_instances`
    return new Map(rows.map((r) => [r.id.split(':')[0] as string, r.id]))
  }
  /** Live lease owner per session (as instance names), and whether that holder reports it open. */
  const placement = async () => {
    const rows = await db.sql<{ client_id: string; owner: string }[]>`
      SELECT client_id, owner FROM whatsapp_session_leases WHERE expires_at > now() AND client_id LIKE 'cp-_'`
    const out = new Map<string, string>()
    for (const r of rows) {
      const name = r.owner.split(':')[0] as string
      const holder = servers.get(name)
      const state = holder ? (await holder.get(`/api/whatsapp/status?clientId=${r.client_id}`)).body?.state : null
      if (state === 'open') out.set(r.client_id, name)
    }
    return out
  }
  /** Every session open on its instance among `names` (the default session is balanced too, on every instance). */
  const placedOn = async (names: string[]) => {
    const owners = await ownerIds()
    const live = names.map((n) => owners.get(n) as string)
    const now = await placement()
    const balanced = balancedPlacement([...IDS, 'cp-default'], live)
    const want = new Map(IDS.map((id) => [id, (balanced.get(id) as string).split(':')[0] as string]))
    return IDS.every((id) => now.get(id) === want.get(id)) && want
  }
  const shares = (want: Map<string, string>) => {
    const counts: Record<string, number> = {}
    for (const name of want.values()) counts[name] = (counts[name] ?? 0) + 1
    return counts
  }
  const conversations = async (label: string, want: Map<string, string>) => {
    for (const [i, id] of IDS.entries()) {
      const holder = servers.get(want.get(id) as string) as ChildServer
      const text = `${label} ${id}: to bob`
      const sent = await holder.post(`/api/whatsapp/send?clientId=${id}`, { to: BOB.pn, text })
      t.equal(sent.status, 200, `${label}: ${id} sends through ${holder.name}`)
      await receivedText(fake, text)
      const reply = await contactWritesAndAppDecrypts(fake, BOB.pn, `${label} ${id}: bob answers`)
      t.not(reply.receipt.type, 'retry', `${label}: ${id} decrypts Bob's reply`)
      void i
    }
  }
  const noOverlap = (label: string) => {
    t.equal(fake.conflictsSent(), 0, `${label}: the fake never sent a 440`)
    t.same(IDS.map((_, i) => fake.maxConcurrentConnections(accountOf(i).pn)), IDS.map(() => 1), `${label}: never two sockets for one account`)
  }

  // Three instances, then six sessions created and paired through a (the issue's failover case).
  const a = await start('a')
  await start('b')
  await start('c')
  await untilServers('three live instances', async () => (await ownerIds()).size === 3, 15_000)
  for (const [i, id] of IDS.entries()) {
    const created = await a.post('/api/whatsapp/sessions', { clientId: id })
    t.equal(created.status, 201, `${id} created on a`)
    const qr = await untilServers(`a QR for ${id}`, async () => {
      const res = await a.get(`/api/whatsapp/qr?clientId=${id}`)
      return res.status === 200 && (res.body.qr as string)
    }, 20_000)
    await fake.scanQR(qr, accountOf(i))
    await untilServers(`${id} open on a`, async () => (await a.get(`/api/whatsapp/status?clientId=${id}`)).body.state === 'open', 20_000)
  }

  // Balanced: every session moves (clean hand-over) to its rendezvous instance.
  const balancedAt = Date.now()
  const want3 = await untilServers('every session on its rendezvous instance', () => placedOn(['a', 'b', 'c']), 90_000)
  t.comment(`placed in ${((Date.now() - balancedAt) / 1000).toFixed(1)} s after the last pairing: ${JSON.stringify(shares(want3))}`)
  t.same(Object.values(shares(want3)).reduce((x, y) => x + y, 0), IDS.length)
  noOverlap('after placement')
  await conversations('placed', want3)

  // kill -9 of the instance holding the most sessions: its sessions open on the survivors.
  const counts = shares(want3)
  const victim = (['a', 'b', 'c'].sort((x, y) => (counts[y] ?? 0) - (counts[x] ?? 0))[0]) as string
  const survivors = ['a', 'b', 'c'].filter((n) => n !== victim)
  const killedAt = Date.now()
  servers.get(victim)?.kill('SIGKILL')
  await servers.get(victim)?.exited
  const want2 = await untilServers(`${victim}'s sessions open on ${survivors.join(' and ')}`, () => placedOn(survivors), 60_000)
  const failoverMs = Date.now() - killedAt
  t.comment(`kill -9 of ${victim} (${counts[victim] ?? 0} sessions): all open on the survivors after ${(failoverMs / 1000).toFixed(1)} s: ${JSON.stringify(shares(want2))}`)
  t.ok(failoverMs < 15_000, `failover within 15 s (${failoverMs} ms)`)
  servers.delete(victim)
  noOverlap('after the failover')
  await conversations('after failover', want2)

  // A new instance joins: after its settle time, the sessions it wins move to it.
  const joinedAt = Date.now()
  await start('d')
  const want3b = await untilServers('rebalanced onto d', () => placedOn([...survivors, 'd']), 90_000)
  const rebalanceMs = Date.now() - joinedAt
  t.comment(`d joined: rebalanced after ${(rebalanceMs / 1000).toFixed(1)} s: ${JSON.stringify(shares(want3b))}`)
  t.ok(rebalanceMs < 60_000, `rebalanced within 60 s (${rebalanceMs} ms)`)
  noOverlap('after the join')
  await conversations('after the join', want3b)

  t.same(fake.errors(), { internal: [], decrypt: [], unhandledIqs: [] }, 'no Bad MAC at the fake')
  t.same([...servers.values()].flatMap(childDecryptFailures), [], 'no instance logged a decryption failure')
  for (const server of servers.values()) server.kill('SIGTERM')
  for (const server of servers.values()) t.equal((await server.exited).code, 0, `${server.name} exits 0 on SIGTERM`)
  t.same(await db.sql`SELECT id FROM whatsapp_instances WHERE id NOT LIKE ${`${victim}:%`}`, [], 'every cleanly stopped instance deregistered')
})

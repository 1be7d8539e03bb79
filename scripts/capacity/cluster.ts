// bench:capacity --instances K: K compiled server processes on one database and the fake WhatsApp
// with S accounts. Each session is created and linked through the instance placement prefers (what
// request routing does for POST /sessions), then it measures: sessions per instance, idle database
// statements per second for the whole cluster, the time until every session of a kill -9'd instance
// is open on the survivors, the time until a newly started instance has its rendezvous share (clean
// hand-overs), and the 440s the fake sent and the most sockets one account ever had at once.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { balancedPlacement } from '../../src/cluster/placement.js'
import { migrate } from '../../src/db/index.js'
import { startFakeWhatsApp } from '../../test/fake-whatsapp/index.js'
import { freePort, pool, sleep, spawnServer, until, type Child } from './child.js'

export interface ClusterBenchOptions {
  sessions: number
  instances: number
  idleSeconds: number
  linkConcurrency: number
  adminUrl: string
  ids: string[]
  accountOf(i: number): { pn: string; lid: string }
  contact: { pn: string; lid: string; name: string }
  log(line: string): void
}

/** Forwarded-call latency is request routing's measure; this hook stays empty until routing provides it. */
export type ForwardingProbe = (children: Child[], clientIds: string[]) => Promise<string>

export async function clusterBench(o: ClusterBenchOptions, forwarding?: ForwardingProbe): Promise<void> {
  const { sessions: S, instances: K, ids, log } = o
  const fake = await startFakeWhatsApp({ lidOnFirstLookupOnly: true })
  fake.addContact(o.contact)
  for (let i = 0; i < S; i++) fake.addAccount(o.accountOf(i))
  const dbName = `bench_cluster_${process.pid}`
  const admin = postgres(o.adminUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`CREATE DATABASE "${dbName}"`)
  const url = new URL(o.adminUrl)
  url.pathname = `/${dbName}`
  const db = postgres(url.toString(), { max: 2, onnotice: () => {} })
  const folders: string[] = []
  const children = new Map<string, Child>()
  try {
    await migrate(db as never)
    const start = async (name: string) => {
      const folder = await mkdtemp(join(tmpdir(), `bench-cluster-${name}-`))
      folders.push(folder)
      const port = await freePort()
      const child = spawnServer({
        NODE_ENV: 'test', LOG_LEVEL: 'warn', HOST: '127.0.0.1', INTERNAL_URL: `http://127.0.0.1:${port}`,
        CLIENT_ID: ids[0] as string, SESSION_PATH: folder, WA_WS_URL: fake.url, INSTANCE_ID: name,
        FAKE_WA_ROOT_PUBLIC_KEY: Buffer.from(fake.rootPublicKey).toString('hex'),
        RATE_LIMIT_MAX: '1000000', SEND_RATE_LIMIT_MAX: '1000000', MAX_SESSIONS: String(S + 10), CLEANUP_INTERVAL_MS: '0',
        DATABASE_URL: url.toString(), SESSION_LEASE: 'on',
      }, port)
      children.set(name, child)
      await until(`${name} /health`, async () => (await child.get('/health')).status === 200, 60_000, 50, child)
      return child
    }
    const owners = async () => new Map((await db<{ id: string }[]>`SELECT id FROM whatsapp_instances`).map((r) => [r.id.split(':')[0] as string, r.id]))
    /** Instance name per session with a live lease, and how many sessions each instance reports open. */
    const holders = async () => {
      const rows = await db<{ client_id: string; owner: string }[]>`SELECT client_id, owner FROM whatsapp_session_leases WHERE expires_at > now()`
      return new Map(rows.map((r) => [r.client_id, r.owner.split(':')[0] as string]))
    }
    const openOn = async (names: string[]) => {
      let n = 0
      for (const name of names) n += ((await children.get(name)?.get('/ready'))?.body?.sessions?.open as number | undefined) ?? 0
      return n
    }
    /** Every session held by its rendezvous instance among `names`, and all of them open there. */
    const placedOn = async (names: string[]) => {
      const byName = await owners()
      const live = names.map((n) => byName.get(n) as string)
      const held = await holders()
      const want = balancedPlacement(ids, live)
      const ok = ids.every((id) => held.get(id) === (want.get(id) as string).split(':')[0])
      return ok && (await openOn(names)) === S && held
    }
    const perInstance = (held: Map<string, string>, names: string[]) =>
      names.map((n) => `${n} ${ids.filter((id) => held.get(id) === n).length}`).join(', ')
    const transactions = async () => {
      await admin`SELECT pg_stat_clear_snapshot()`
      const [row] = await admin<{ n: string }[]>`SELECT (xact_commit + xact_rollback)::text AS n FROM pg_stat_database WHERE datname = ${dbName}`
      return Number(row?.n)
    }

    const names = Array.from({ length: K }, (_, i) => `i${i}`)
    log(`starting ${K} instances`)
    for (const name of names) await start(name)
    await until(`${K} live instances`, async () => (await owners()).size === K, 30_000, 100)

    log(`linking ${S} sessions, each through the instance placement prefers (${o.linkConcurrency} at a time)`)
    const byName = await owners()
    const planned = balancedPlacement(ids, names.map((n) => byName.get(n) as string))
    const linkStart = performance.now()
    await pool(ids, o.linkConcurrency, async (id, i) => {
      const target = children.get((planned.get(id) as string).split(':')[0] as string) as Child
      if (i > 0) {
        const created = await target.post('/api/whatsapp/sessions', { clientId: id })
        if (created.status !== 201) throw new Error(`POST /sessions ${id}: ${created.status} ${JSON.stringify(created.body)}`)
      }
      const qr = await until(`a QR for ${id}`, async () => {
        const res = await target.get(`/api/whatsapp/qr?clientId=${id}`)
        return res.status === 200 && (res.body.qr as string)
      }, 120_000, 100)
      await fake.scanQR(qr, o.accountOf(i))
      await until(`${id} open`, async () => (await target.get(`/api/whatsapp/status?clientId=${id}`)).body.state === 'open', 120_000, 100)
    })
    const linkSeconds = (performance.now() - linkStart) / 1000
    const placed = await until('every session on its rendezvous instance', () => placedOn(names), 180_000, 250)
    const spread = names.map((n) => ids.filter((id) => placed.get(id) === n).length)

    log(`idle: 25 s, then a ${o.idleSeconds} s window`)
    await sleep(25_000)
    const x0 = await transactions()
    const t0 = performance.now()
    await sleep(o.idleSeconds * 1000)
    const statementsPerSecond = ((await transactions()) - x0) / ((performance.now() - t0) / 1000)
    const forwardingLatency = forwarding ? await forwarding([...children.values()], ids) : 'not measured here (request routing)'

    // kill -9 of the instance holding the most sessions.
    const victim = names[spread.indexOf(Math.max(...spread))] as string
    const survivors = names.filter((n) => n !== victim)
    log(`kill -9 ${victim} (${Math.max(...spread)} sessions)`)
    const killedAt = performance.now()
    children.get(victim)?.proc.kill('SIGKILL')
    await children.get(victim)?.exited
    const afterKill = await until(`${victim}'s sessions open on the survivors`, () => placedOn(survivors), 120_000, 100)
    const failoverSeconds = (performance.now() - killedAt) / 1000
    children.delete(victim)

    // A new instance joins.
    const joined = `i${K}`
    log(`starting ${joined}`)
    const joinAt = performance.now()
    await start(joined)
    const healthSeconds = (performance.now() - joinAt) / 1000
    const rebalanced = await until(`rebalanced onto ${joined}`, () => placedOn([...survivors, joined]), 180_000, 250)
    const rebalanceSeconds = (performance.now() - joinAt) / 1000
    const moved = ids.filter((id) => rebalanced.get(id) !== afterKill.get(id)).length

    const conflicts = fake.conflictsSent()
    const maxSockets = Math.max(...ids.map((_, i) => fake.maxConcurrentConnections(o.accountOf(i).pn)))
    const target = Math.round(S / K)
    const slack = Math.max(1, Math.round(S / K * 0.15))
    const rows: Array<[string, string]> = [
      ['instances x sessions', `${K} x ${S} (postgres, lease on, LEASE_TTL_MS 10000, REBALANCE_BATCH 3)`],
      ['time to link S (each on its preferred instance)', `${linkSeconds.toFixed(1)} s (${o.linkConcurrency} at a time)`],
      ['sessions per instance', perInstance(placed, names)],
      [`idle database statements, whole cluster (${o.idleSeconds} s window)`, `${statementsPerSecond.toFixed(2)} /s (${(statementsPerSecond / K).toFixed(2)} /s per instance)`],
      ['forwarded call latency', forwardingLatency],
      [`kill -9 ${victim} -> its sessions open on the survivors`, `${failoverSeconds.toFixed(1)} s (now ${perInstance(afterKill, survivors)})`],
      [`${joined} started -> rebalanced`, `${rebalanceSeconds.toFixed(1)} s (${healthSeconds.toFixed(1)} s of it to /health; ${moved} sessions moved; now ${perInstance(rebalanced, [...survivors, joined])})`],
      ['440s sent by the fake', String(conflicts)],
      ['most sockets one account had at once', String(maxSockets)],
    ]
    const width = Math.max(...rows.map(([k]) => k.length))
    console.log(`\nbench:capacity --instances ${K}, ${new Date().toISOString()}, node ${process.version}`)
    console.log(`| ${'measure'.padEnd(width)} | value |`)
    console.log(`| ${'-'.repeat(width)} | ----- |`)
    for (const [k, v] of rows) console.log(`| ${k.padEnd(width)} | ${v} |`)
    const met = (ok: boolean, what: string) => console.log(`  ${ok ? 'met    ' : 'NOT met'}  ${what}`)
    console.log('\ntargets:')
    met(spread.every((n) => Math.abs(n - target) <= slack), `sessions per instance ${target} ± ${slack} (${spread.join(', ')})`)
    met(failoverSeconds < 15, `kill -9: its sessions open on the survivors within 15 s (${failoverSeconds.toFixed(1)} s)`)
    met(rebalanceSeconds < 60, `join: rebalanced within 60 s (${rebalanceSeconds.toFixed(1)} s)`)
    met(conflicts === 0 && maxSockets === 1, `no 440 and never two sockets for one account (${conflicts} 440s, at most ${maxSockets})`)
  } catch (err) {
    for (const [name, c] of children) console.error(`--- ${name}\n${c.lines.slice(-30).join('\n')}`)
    throw err
  } finally {
    for (const c of children.values()) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL')
    await Promise.all([...children.values()].map((c) => c.exited))
    await fake.close()
    await db.end({ timeout: 2 })
    await admin.unsafe(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch(() => undefined)
    await admin.end({ timeout: 2 })
    for (const f of folders) await rm(f, { recursive: true, force: true })
  }
}

// npm run bench:capacity -- --sessions N [--storage postgres|file] [--lease on|off] [--idle SECONDS]
//   [--link-concurrency K] [--no-build] [--instances K]
// --instances K (K > 1): K instances on one database instead; see scripts/capacity/cluster.ts.
// How many WhatsApp accounts one server holds, against the fake WhatsApp with N accounts. The server
// runs as a real child process, compiled (node dist/src/server.js, with a test-only preload that
// trusts the fake's root key and reports memory on SIGUSR2). N sessions are linked through the API
// (POST /sessions, GET /qr, the fake phone scans), then it measures: time to link, RSS and heap with N
// open sessions after an idle pause, RSS per session above the base process (the same server with one
// session, measured first: the reference of this run), idle CPU, idle database statements per second
// (pg_stat_database transactions), one send per session, the SIGTERM stop, and a restart (time to
// /health, time until all N are open again, RSS after resume). Prints one table and the targets.
import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { migrate } from '../src/db/index.js'
import { startFakeWhatsApp } from '../test/fake-whatsapp/index.js'
import { freePort, percentile, pool, sleep, spawnServer, until, type Child } from './capacity/child.js'
import { clusterBench } from './capacity/cluster.js'
import { forwardingProbe } from './capacity/forwarding.js'

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '50' },
    storage: { type: 'string', default: 'postgres' },
    lease: { type: 'string', default: 'on' },
    idle: { type: 'string', default: '20' },
    'link-concurrency': { type: 'string', default: '8' },
    'no-build': { type: 'boolean', default: false },
    instances: { type: 'string', default: '1' },
  },
})
const instances = Number(values.instances)
if (!Number.isInteger(instances) || instances < 1) throw new Error('--instances must be a positive integer')
const N = Number(values.sessions)
const storage = values.storage === 'file' ? 'file' : 'postgres'
const leaseOn = storage === 'postgres' && values.lease !== 'off'
const idleSeconds = Number(values.idle)
const linkConcurrency = Number(values['link-concurrency'])
if (!Number.isInteger(N) || N < 1) throw new Error('--sessions must be a positive integer')

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const ADMIN_URL = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const CLK_TCK = 100
const MB = 1024 * 1024
const ids = Array.from({ length: N }, (_, i) => `shop-${String(i).padStart(4, '0')}`)
const accountOf = (i: number) => ({ pn: `1556${String(i).padStart(7, '0')}`, lid: `4${String(i).padStart(14, '0')}` })
const BOB = { pn: '15550002222', lid: '200000000000002', name: 'Bob' }
const log = (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`)
function cpuTicks(pid: number): number {
  const stat = spawnSync('cat', [`/proc/${pid}/stat`], { encoding: 'utf8' }).stdout
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[11]) + Number(fields[12])
}

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024
}

interface Memory {
  rss: number
  heapUsed: number
  heapAfterGc: number
  /** Buffers and other memory outside the V8 heap (after a full GC). */
  external: number
}

async function memory(child: Child, file: string): Promise<Memory> {
  const pid = child.proc.pid as number
  const rss = await rssBytes(pid)
  const before = Date.now()
  child.proc.kill('SIGUSR2')
  const report = await until('a memory report', async () => {
    const r = JSON.parse(await readFile(file, 'utf8')) as { before: NodeJS.MemoryUsage; after: NodeJS.MemoryUsage; at: number }
    return r.at >= before && r
  }, 10_000, 50)
  return { rss, heapUsed: report.before.heapUsed, heapAfterGc: report.after.heapUsed, external: report.after.external }
}

async function openCount(child: Child): Promise<number> {
  const res = await child.get('/ready')
  return (res.body?.sessions?.open as number | undefined) ?? 0
}

async function main(): Promise<void> {
  if (!values['no-build']) {
    log('building (npm run build)')
    const built = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' })
    if (built.status !== 0) throw new Error('npm run build failed')
  }
  if (instances > 1) {
    return clusterBench({ sessions: N, instances, idleSeconds, linkConcurrency, adminUrl: ADMIN_URL, ids, accountOf, contact: BOB, log }, forwardingProbe)
  }
  const fake = await startFakeWhatsApp({ lidOnFirstLookupOnly: true })
  fake.addContact(BOB)
  for (let i = 0; i < N; i++) fake.addAccount(accountOf(i))
  const sessionPath = await mkdtemp(join(tmpdir(), 'bench-capacity-'))
  const memoryFile = join(sessionPath, '..', `bench-capacity-memory-${process.pid}.json`)
  let admin: postgres.Sql | null = null
  let benchDb: postgres.Sql | null = null
  let dbName = ''
  const children: Child[] = []
  try {
    const env: Record<string, string> = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      CLIENT_ID: ids[0] as string,
      SESSION_PATH: sessionPath,
      WA_WS_URL: fake.url,
      FAKE_WA_ROOT_PUBLIC_KEY: Buffer.from(fake.rootPublicKey).toString('hex'),
      BENCH_MEMORY_FILE: memoryFile,
      RATE_LIMIT_MAX: '1000000',
      SEND_RATE_LIMIT_MAX: '1000000',
      MAX_SESSIONS: String(N + 10),
      CLEANUP_INTERVAL_MS: '0',
    }
    if (storage === 'postgres') {
      dbName = `bench_capacity_${process.pid}`
      admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} })
      await admin.unsafe(`CREATE DATABASE "${dbName}"`)
      const url = new URL(ADMIN_URL)
      url.pathname = `/${dbName}`
      benchDb = postgres(url.toString(), { max: 1, onnotice: () => {} })
      await migrate(benchDb as never)
      env.DATABASE_URL = url.toString()
      env.SESSION_LEASE = leaseOn ? 'on' : 'off'
    } else {
      env.SESSION_STORAGE = 'file'
    }
    const transactions = async () => {
      if (!admin) return NaN
      await admin`SELECT pg_stat_clear_snapshot()`
      const [row] = await admin<{ n: string }[]>`SELECT (xact_commit + xact_rollback)::text AS n FROM pg_stat_database WHERE datname = ${dbName}`
      return Number(row?.n)
    }
    const liveLeases = async () => {
      if (!benchDb) return NaN
      const [row] = await benchDb<{ n: number }[]>`SELECT count(*)::int AS n FROM whatsapp_session_leases WHERE expires_at > now()`
      return row?.n ?? NaN
    }
    /** Rows written per table (inserts, updates, deletes), as the statistics collector counts them. */
    const tableWrites = async () => {
      if (!benchDb) return new Map<string, number>()
      const rows = await benchDb<{ relname: string; n: string }[]>`
        SELECT relname, (n_tup_ins + n_tup_upd + n_tup_del)::text AS n FROM pg_stat_user_tables`
      return new Map(rows.map((r) => [r.relname, Number(r.n)]))
    }
    const idleWindow = async (child: Child) => {
      const pid = child.proc.pid as number
      const w0 = await tableWrites()
      const t0 = performance.now()
      const [c0, x0] = [cpuTicks(pid), await transactions()]
      await sleep(idleSeconds * 1000)
      const seconds = (performance.now() - t0) / 1000
      const [c1, x1] = [cpuTicks(pid), await transactions()]
      const w1 = await tableWrites()
      const writes = [...w1].map(([table, n]) => `${table} ${n - (w0.get(table) ?? 0)}`).join(', ')
      return { cpuPercent: ((c1 - c0) / CLK_TCK / seconds) * 100, statementsPerSecond: (x1 - x0) / seconds, writes }
    }

    // 1. The server with its default session only: the base the per-session figures are measured from.
    const port = await freePort()
    log(`starting the server (${storage}${storage === 'postgres' ? `, lease ${leaseOn ? 'on' : 'off'}` : ''})`)
    const first = spawnServer(env, port)
    children.push(first)
    await until('/health', async () => (await first.get('/health')).status === 200, 60_000, 20, first)
    await until('the default session\'s QR', async () => (await first.get('/api/whatsapp/qr')).status === 200, 60_000)
    await sleep(3000)
    const base = await memory(first, memoryFile)

    // 2. Link N sessions through the API.
    log(`linking ${N} sessions (${linkConcurrency} at a time)`)
    const linkStart = performance.now()
    const linkTimes = await pool(ids, linkConcurrency, async (id, i) => {
      const t0 = performance.now()
      if (i > 0) {
        const created = await first.post('/api/whatsapp/sessions', { clientId: id })
        if (created.status !== 201) throw new Error(`POST /sessions ${id}: ${created.status} ${JSON.stringify(created.body)}`)
      }
      const qr = await until(`a QR for ${id}`, async () => {
        const res = await first.get(`/api/whatsapp/qr?clientId=${id}`)
        return res.status === 200 && (res.body.qr as string)
      }, 120_000, 100)
      await fake.scanQR(qr, accountOf(i))
      await until(`${id} open`, async () => (await first.get(`/api/whatsapp/status?clientId=${id}`)).body.state === 'open', 120_000, 100)
      if ((i + 1) % 50 === 0) log(`  ${i + 1} linked`)
      return performance.now() - t0
    })
    const linkSeconds = (performance.now() - linkStart) / 1000
    await until(`${N} open`, async () => (await openCount(first)) === N, 120_000, 500)

    // 3. Idle: memory after 10 s; CPU and database statements over a window that starts once the
    // first-login work is over (Baileys waits 20 s for a history sync after a first login, then saves
    // its creds once).
    log(`idle: 10 s, memory, 15 s more, then a ${idleSeconds} s window`)
    await sleep(10_000)
    const withN = await memory(first, memoryFile)
    await sleep(15_000)
    const idle = await idleWindow(first)

    // 4. One send per session.
    log(`one send per session (${N})`)
    const sendStart = performance.now()
    const sends = await pool(ids, 20, async (id) => {
      const t0 = performance.now()
      const res = await first.post(`/api/whatsapp/send?clientId=${id}`, { to: BOB.pn, text: `capacity ${id}` })
      return { ok: res.status === 200, ms: performance.now() - t0 }
    })
    const sendSeconds = (performance.now() - sendStart) / 1000
    const sendFailures = sends.filter((s) => !s.ok).length
    const delivered = await until('the fake decrypted every message', async () => {
      const n = fake.received().filter((m) => m.text.startsWith('capacity ')).length
      return n >= N - sendFailures && n
    }, 60_000, 200).catch(() => fake.received().filter((m) => m.text.startsWith('capacity ')).length)

    // 5. SIGTERM with N open sessions.
    const leasesBefore = await liveLeases()
    log('SIGTERM')
    const killedAt = performance.now()
    first.proc.kill('SIGTERM')
    const stop = await first.exited
    const stopSeconds = (stop.at - killedAt) / 1000
    const leasesAfter = await liveLeases()

    // 6. Restart on the same storage: /health, then all N open again without a QR.
    log('restarting')
    const waitingBefore = fake.waitingForScan()
    const second = spawnServer(env, await freePort())
    children.push(second)
    await until('/health', async () => (await second.get('/health')).status === 200, 60_000, 20, second)
    const healthSeconds = (performance.now() - second.startedAt) / 1000
    await until(`${N} open after restart`, async () => (await openCount(second)) === N, 300_000, 250)
    const allOpenSeconds = (performance.now() - second.startedAt) / 1000
    const qrsAfterRestart = fake.waitingForScan() - waitingBefore
    const metricsText = await (await fetch(`${second.base}/metrics`)).text()
    const leaseLosses = [...metricsText.matchAll(/whatsapp_lease_events\{[^}]*event="lost"[^}]*\} (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0)
    await sleep(10_000)
    const afterResume = await memory(second, memoryFile)
    const ready = (await second.get('/ready')).body
    second.proc.kill('SIGTERM')
    await second.exited

    // The table.
    const mb = (b: number) => `${(b / MB).toFixed(0)} MB`
    const perSession = (withN.rss - base.rss) / Math.max(1, N - 1)
    const rows: Array<[string, string]> = [
      ['sessions', `${N} (${storage}${storage === 'postgres' ? `, lease ${leaseOn ? 'on' : 'off'}` : ''})`],
      ['time to link N (API + QR scan)', `${linkSeconds.toFixed(1)} s (${linkConcurrency} at a time; per session p50 ${percentile(linkTimes, 50).toFixed(0)} ms, p95 ${percentile(linkTimes, 95).toFixed(0)} ms)`],
      ['RSS, base (1 session, idle)', `${mb(base.rss)} (heap ${mb(base.heapAfterGc)} after a full GC, external ${mb(base.external)})`],
      [`RSS with ${N} open (after 10 s idle)`, mb(withN.rss)],
      [`heap used with ${N} open`, `${mb(withN.heapUsed)} (${mb(withN.heapAfterGc)} after a full GC; external ${mb(withN.external)})`],
      ['RSS per session above the base', `${(perSession / MB).toFixed(2)} MB`],
      [`idle CPU (${idleSeconds} s window, 25 s after the last link)`, `${idle.cpuPercent.toFixed(1)} % of one core`],
      ['idle database statements', storage === 'postgres' ? `${idle.statementsPerSecond.toFixed(2)} /s (rows written: ${idle.writes})` : 'n/a (file mode)'],
      ['one send per session', `${sendSeconds.toFixed(1)} s for ${N} (20 at a time; p50 ${percentile(sends.map((s) => s.ms), 50).toFixed(0)} ms, p95 ${percentile(sends.map((s) => s.ms), 95).toFixed(0)} ms), ${sendFailures} failed, ${delivered} decrypted by the fake`],
      [`SIGTERM with ${N} open -> exit`, `${stopSeconds.toFixed(1)} s (exit ${stop.code}${stop.signal ? `, ${stop.signal}` : ''}${leaseOn ? `; leases live before ${leasesBefore}, after ${leasesAfter}` : ''})`],
      ['restart -> /health', `${healthSeconds.toFixed(2)} s`],
      [`restart -> all ${N} open`, `${allOpenSeconds.toFixed(1)} s (new QRs needed: ${qrsAfterRestart}; resume failures: ${ready.resume?.failed?.length ?? '?'}${leaseOn ? `; lease losses: ${leaseLosses}` : ''})`],
      ['RSS after resume (10 s idle)', mb(afterResume.rss)],
    ]
    const width = Math.max(...rows.map(([k]) => k.length))
    console.log(`\nbench:capacity, ${new Date().toISOString()}, node ${process.version}`)
    console.log(`| ${'measure'.padEnd(width)} | value |`)
    console.log(`| ${'-'.repeat(width)} | ----- |`)
    for (const [k, v] of rows) console.log(`| ${k.padEnd(width)} | ${v} |`)
    const target = (ok: boolean, what: string) => console.log(`  ${ok ? 'met    ' : 'NOT met'}  ${what}`)
    console.log('\ntargets:')
    target(healthSeconds < 2, `restart -> /health under 2 s (${healthSeconds.toFixed(2)} s)`)
    target(allOpenSeconds < 60 && qrsAfterRestart === 0, `restart -> all open under 60 s, no QR (${allOpenSeconds.toFixed(1)} s)`)
    target(idle.cpuPercent < 5, `idle CPU under 5 % (${idle.cpuPercent.toFixed(1)} %)`)
    if (storage === 'postgres') target(idle.statementsPerSecond < 5, `idle database statements under 5/s (${idle.statementsPerSecond.toFixed(2)}/s)`)
    target(perSession <= 2 * MB, `RSS per idle session at most 2 MB above the base (${(perSession / MB).toFixed(2)} MB)`)
    target(stop.code === 0 && stopSeconds * 1000 < 10_000 && (!leaseOn || leasesAfter === 0), `SIGTERM: exit 0 within SHUTDOWN_TIMEOUT_MS (10 s)${leaseOn ? ', every lease released' : ''}`)
  } catch (err) {
    for (const c of children) console.error(c.lines.slice(-40).join('\n'))
    throw err
  } finally {
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL')
    await fake.close()
    await benchDb?.end({ timeout: 2 })
    if (admin) {
      await admin.unsafe(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch(() => undefined)
      await admin.end({ timeout: 2 })
    }
    await rm(sessionPath, { recursive: true, force: true })
    await rm(memoryFile, { force: true })
  }
}

await main()

// npm run bench:send -- [--duration SECONDS] [--rounds N (20)] [--connections N] [--dups N]
// POST /send through the real app (Postgres mode, a fresh database) to the in-process fake WhatsApp:
// messages/s and p50/p99 latency for a text and a 100 KB image (base64), each with the message store
// off (reference), on, and on with an Idempotency-Key, measured in alternating rounds in the same run
// (medians of per-round ratios; the machine is shared), the process's CPU time per message, how busy
// its JavaScript thread was, and Postgres's CPU time and transactions per message (a local Postgres
// shares the cores). Then a client that retries every request 3 times with the same key,
// also after a restart: the fake must receive each message once.
import { randomUUID } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import postgres from 'postgres'
import pino from 'pino'
import { WA_CERT_DETAILS } from '@whiskeysockets/baileys'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { createSql, migrate } from '../src/db/index.js'
import type { MessageStore } from '../src/messages/store/types.js'
import { enforceSignatureVerification } from '../src/whatsapp/signature-verification.js'
import { FIXTURE_ROOT_PUBLIC_KEY, startFakeWhatsApp } from '../test/fake-whatsapp/index.js'
import { routeWhatsAppMediaTo } from '../test/fake-whatsapp/media-redirect.js'
import { quietLibsignal } from '../test/fake-whatsapp/quiet.js'
import { unrefLongTimers } from '../test/fake-whatsapp/timers.js'
import { pngOfSize } from '../test/helpers/media-fixtures.js'

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '20' },
    connections: { type: 'string', default: '8' },
    dups: { type: 'string', default: '30' },
  },
})
const duration = Number(values.duration)
const rounds = Number(values.rounds)
const connections = Number(values.connections)
const dups = Number(values.dups)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const ADMIN = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const BOB = { pn: '15550002222', lid: '200000000000002', name: 'Bob' }

unrefLongTimers()
quietLibsignal()
enforceSignatureVerification()
WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(FIXTURE_ROOT_PUBLIC_KEY)

const dbName = `wa_bench_send_${randomUUID().slice(0, 8)}`
const admin = postgres(ADMIN, { max: 1, onnotice: () => {} })
await admin.unsafe(`CREATE DATABASE "${dbName}"`)
const dbUrl = new URL(ADMIN)
dbUrl.pathname = `/${dbName}`
const sql = createSql(dbUrl.toString(), { max: 2 })
await migrate(sql)
const dir = await mkdtemp(join(tmpdir(), 'bench-send-'))
// The fake keeps the last 64 uploads only: holding every image it was sent, ten image rounds grew this
// process to 1.2 GB (0.55 GB with the bound).
const fake = await startFakeWhatsApp({ lidOnFirstLookupOnly: true, keepUploads: 64 })
routeWhatsAppMediaTo(fake.media.port)
fake.addContact(BOB)

// The reference: the same app with the message store switched off (nothing kept, nothing read).
let storeOn = true
const switchable = (store: MessageStore): MessageStore => ({
  mode: store.mode,
  save: (...a) => (storeOn ? store.save(...a) : Promise.resolve()),
  get: (...a) => (storeOn ? store.get(...a) : Promise.resolve(null)),
  updateStatus: (...a) => (storeOn ? store.updateStatus(...a) : Promise.resolve()),
  purge: (...a) => store.purge(...a),
})
const config = loadConfig({
  NODE_ENV: 'test', LOG_LEVEL: 'silent', CLIENT_ID: 'bench', SESSION_PATH: dir, DATABASE_URL: dbUrl.toString(),
  WA_WS_URL: fake.url, RATE_LIMIT_MAX: '1000000', SEND_RATE_LIMIT_MAX: '1000000', SESSION_ENCRYPTION_KEY: 'c'.repeat(64),
})
const start = async () => {
  const app = await buildApp({ config, logger: pino({ level: 'silent' }), wrapMessageStore: switchable })
  await app.listen({ host: '127.0.0.1', port: 0 })
  return app
}
const waitFor = async (what: string, fn: () => Promise<boolean> | boolean, ms = 30_000) => {
  for (const until = Date.now() + ms; Date.now() < until; await new Promise((r) => setTimeout(r, 25))) if (await fn()) return
  throw new Error(`timed out: ${what}`)
}
let app = await start()
const state = async () => (await app.inject('/api/whatsapp/status')).json().state as string
await waitFor('a QR', async () => (await app.inject('/api/whatsapp/qr')).statusCode === 200)
await fake.scanQR((await app.inject('/api/whatsapp/qr')).json().qr)
await waitFor('open', async () => (await state()) === 'open')
const url = () => `http://127.0.0.1:${(app.server.address() as { port: number }).port}/api/whatsapp/send`

const image = pngOfSize(100_000).toString('base64')
const bodies = {
  text: JSON.stringify({ to: BOB.pn, text: 'benchmark text message' }),
  image: JSON.stringify({ to: BOB.pn, type: 'image', media: { base64: image } }),
}
/**
 * CPU time (ms) of every Postgres process on this machine, from /proc; null where it cannot be read
 * (another OS, or a database elsewhere). Postgres shares the machine's cores with this process.
 */
function postgresCpuMs(): number | null {
  let ticks = 0
  let found = false
  try {
    for (const pid of readdirSync('/proc')) {
      if (!/^[0-9]+$/.test(pid)) continue
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
        if (!stat.includes(' (postgres) ')) continue
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
        ticks += Number(fields[11]) + Number(fields[12]) // utime, stime
        found = true
      } catch {
        // the process ended meanwhile
      }
    }
  } catch {
    return null
  }
  return found ? ticks * 10 : null // 100 ticks per second on Linux
}
const commits = async () => Number((await admin<{ n: string }[]>`SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = ${dbName}`)[0]?.n ?? 0)

type Mode = 'store off' | 'store on' | 'store + key'
async function measure(kind: keyof typeof bodies, mode: Mode) {
  storeOn = mode !== 'store off'
  const [pg0, xacts0] = [postgresCpuMs(), await commits()]
  const cpu0 = process.cpuUsage()
  const elu0 = performance.eventLoopUtilization()
  const result = await autocannon({
    url: url(),
    method: 'POST',
    connections,
    duration,
    headers: { 'content-type': 'application/json' },
    requests: [{
      body: bodies[kind],
      // Every mode's client does the same work per request (a fresh id in a header, the request rebuilt):
      // the client shares this process, and only the server's handling of Idempotency-Key may differ.
      setupRequest: (req) => ({ ...req, headers: { ...req.headers, [mode === 'store + key' ? 'idempotency-key' : 'x-request-id']: randomUUID() } }),
    }],
  })
  if (result.non2xx > 0 || result.errors > 0) {
    // Reported, not fatal: on a shared machine a send can miss its ack deadline; the throughput counts 2xx only.
    console.log(`    ${kind} ${mode}: ${result.non2xx} non-2xx ${JSON.stringify(result.statusCodeStats)}, ${result.errors} errors`)
  }
  const ok = result.requests.total - result.non2xx
  const cpu = process.cpuUsage(cpu0)
  // Server, client and fake share this process: its CPU time per message, in ms, and how busy its one
  // JavaScript thread was (1: never idle, so each message's time on that thread sets the throughput).
  const elu = performance.eventLoopUtilization(elu0).utilization
  // Postgres's CPU time and committed transactions per message (its stats lag by up to a second: a
  // run's count can take some of the previous run's, alike for every mode).
  const [pg1, xacts1] = [postgresCpuMs(), await commits()]
  const per = (x: number) => x / Math.max(1, ok)
  return {
    rps: ok / (result.duration || duration), p50: result.latency.p50, p99: result.latency.p99, cpu: per((cpu.user + cpu.system) / 1000), elu,
    pg: pg0 === null || pg1 === null ? null : per(pg1 - pg0), xacts: per(xacts1 - xacts0),
  }
}

const pgCpu = (rs: Array<{ pg: number | null }>) => (rs.some((r) => r.pg === null) ? '-' : median(rs.map((r) => r.pg as number)).toFixed(2))

try {
  console.log(`bench:send  ${new Date().toISOString()}  node ${process.version}, Postgres mode (sealed), ${connections} connections, ${rounds} alternating rounds of ${duration} s`)
  for (const kind of ['text', 'image'] as const) {
    await measure(kind, 'store on') // warm-up (JIT, sessions, pools), not counted
    const runs: Record<Mode, Array<Awaited<ReturnType<typeof measure>>>> = { 'store off': [], 'store on': [], 'store + key': [] }
    const modes = ['store off', 'store on', 'store + key'] as const
    for (let i = 0; i < rounds; i++) {
      // The order rotates each round, so no mode always runs first (or last) on a warming machine.
      for (let j = 0; j < modes.length; j++) {
        const mode = modes[(i + j) % modes.length]
        runs[mode].push(await measure(kind, mode))
      }
      console.log(`  ${kind} round ${i + 1}: ${modes.map((m) => `${m} ${runs[m][i].rps.toFixed(0)}/s`).join(', ')}`)
    }
    for (const mode of modes) {
      const rps = median(runs[mode].map((r) => r.rps))
      // The ratio of each round (its three runs are seconds apart), then the median over the rounds.
      const ratio = median(runs[mode].map((r, i) => r.rps / runs['store off'][i].rps))
      console.log(`${kind.padEnd(6)} ${mode.padEnd(12)} ${rps.toFixed(0).padStart(6)} msg/s  p50 ${median(runs[mode].map((r) => r.p50)).toFixed(0).padStart(4)} ms  p99 ${median(runs[mode].map((r) => r.p99)).toFixed(0).padStart(4)} ms  cpu ${median(runs[mode].map((r) => r.cpu)).toFixed(2)} ms/msg  postgres ${pgCpu(runs[mode])} ms/msg  ${median(runs[mode].map((r) => r.xacts)).toFixed(1)} xacts/msg  busy ${median(runs[mode].map((r) => r.elu)).toFixed(2)}  ratio ${ratio.toFixed(2)}${mode === 'store off' ? ' (reference)' : ` (target >= 0.90: ${ratio >= 0.9 ? 'met' : 'NOT met'})`}`)
    }
  }

  // A client that retries every request 3 times with the same key (at once, as after a timeout), then
  // once more after a restart of the server.
  storeOn = true
  const post = (key: string, n: number) =>
    fetch(url(), { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key }, body: JSON.stringify({ to: BOB.pn, text: `dup check ${n}` }) })
      .then(async (r) => ({ status: r.status, body: await r.json() as { messageId?: string } }))
  const keys = Array.from({ length: dups }, (_, i) => ({ key: randomUUID(), n: i }))
  const first = new Map<string, string>()
  const statuses: Record<number, number> = {}
  for (const { key, n } of keys) {
    const answers = await Promise.all([post(key, n), post(key, n), post(key, n)])
    for (const a of answers) {
      statuses[a.status] = (statuses[a.status] ?? 0) + 1
      if (a.status === 200 && a.body.messageId) first.set(key, a.body.messageId)
    }
  }
  await app.close()
  app = await start()
  await waitFor('open after the restart', async () => (await state()) === 'open')
  let sameAnswer = 0
  for (const { key, n } of keys) {
    const again = await post(key, n)
    statuses[again.status] = (statuses[again.status] ?? 0) + 1
    if (again.status === 200 && again.body.messageId === first.get(key)) sameAnswer++
  }
  await new Promise((r) => setTimeout(r, 1000))
  const counts = keys.map(({ n }) => fake.received().filter((m) => m.text === `dup check ${n}` && m.to.startsWith(BOB.pn)).length)
  const duplicates = counts.reduce((a, c) => a + Math.max(0, c - 1), 0)
  const missing = counts.filter((c) => c === 0).length
  console.log(`retries: ${dups} messages x (3 concurrent + 1 after a restart) = ${dups * 4} requests; answers ${JSON.stringify(statuses)}; ` +
    `same answer after the restart ${sameAnswer}/${dups}; messages at the fake: duplicates ${duplicates}, missing ${missing} (target: 0 and 0)`)
} finally {
  await app.close()
  await fake.close()
  await sql.end({ timeout: 2 })
  await admin.unsafe(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`)
  await admin.end()
  await rm(dir, { recursive: true, force: true })
}

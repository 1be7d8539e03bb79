// npm run bench:routing -- [--requests N] [--rounds N]
// The latency a forwarded call adds: two instances of the real app (Postgres mode, lease on, the real
// instance registry) on one fresh database, each listening on 127.0.0.1 with INTERNAL_URL; a session
// held by B. GET /api/whatsapp/status of that session, one request at a time over keep-alive, asked
// of B (answered locally) and of A (A looks the holder up in Postgres and forwards to B), in
// alternating rounds of the same run. Prints p50/p99 of both and the difference (target < 5 ms).
// Both instances share this process's one thread, so a forwarded call pays for both sides in turn:
// an upper bound for two machines.
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import pino from 'pino'
import { Pool } from 'undici'
import { buildApp, type App } from '../src/app.js'
import { preferredInstance } from '../src/cluster/placement.js'
import { loadConfig } from '../src/config.js'
import { createSql, migrate } from '../src/db/index.js'

const { values } = parseArgs({ options: { requests: { type: 'string', default: '500' }, rounds: { type: 'string', default: '6' } } })
const perRound = Number(values.requests)
const rounds = Number(values.rounds)
const ADMIN = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number
const until = async (what: string, check: () => boolean, timeoutMs = 20_000) => {
  for (const end = Date.now() + timeoutMs; !check(); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
  }
}

const dbName = `wa_bench_routing_${randomUUID().slice(0, 8)}`
const admin = postgres(ADMIN, { max: 1, onnotice: () => {} })
await admin.unsafe(`CREATE DATABASE "${dbName}"`)
const dbUrl = new URL(ADMIN)
dbUrl.pathname = `/${dbName}`
const sql = createSql(dbUrl.toString(), { max: 1 })
await migrate(sql)
await sql.end()
const dirs: string[] = []
const apps: App[] = []
const pools: Pool[] = []

async function instance(name: string): Promise<{ app: App; pool: Pool }> {
  const port = await freePort()
  const dir = await mkdtemp(join(tmpdir(), `bench-routing-${name}-`))
  dirs.push(dir)
  const config = loadConfig({
    NODE_ENV: 'test', LOG_LEVEL: 'silent', SESSION_PATH: dir, DATABASE_URL: dbUrl.toString(), INSTANCE_ID: name,
    INTERNAL_URL: `http://127.0.0.1:${port}`, LEASE_TTL_MS: '3000', RATE_LIMIT_MAX: '1000000',
    // Nothing reaches the internet: the session connects to a closed local port and backs off.
    WA_WS_URL: `ws://127.0.0.1:${await freePort()}`, RECONNECT_BASE_MS: '60000', RECONNECT_MAX_MS: '60000',
  })
  const app = await buildApp({ config, logger: pino({ level: 'silent' }), startDefaultSession: false })
  apps.push(app)
  await app.listen({ port, host: '127.0.0.1' })
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 1, pipelining: 1 })
  pools.push(pool)
  return { app, pool }
}

try {
  const a = await instance('a')
  const b = await instance('b')
  await until('both instances registered', () => (a.app.cluster.registry?.snapshot()?.length ?? 0) === 2 && (b.app.cluster.registry?.snapshot()?.length ?? 0) === 2)
  const ids = [a.app.config.lease.owner, b.app.config.lease.owner]
  const clientId = Array.from({ length: 200 }, (_, i) => `bench-${i}`).find((id) => preferredInstance(id, ids) === ids[1]) as string
  await b.app.sessions.create(clientId)
  await until(`b holding ${clientId}`, () => b.app.sessions.find(clientId)?.leaseState()?.role === 'holder')

  const path = `/api/whatsapp/status?clientId=${clientId}`
  async function measure(pool: Pool, n: number, into: number[]): Promise<void> {
    for (let i = 0; i < n; i++) {
      const start = performance.now()
      const res = await pool.request({ method: 'GET', path })
      await res.body.text()
      into.push(performance.now() - start)
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`)
    }
  }
  // Warm-up: connections, JIT, the forwarder's pool to B.
  await measure(b.pool, 200, [])
  await measure(a.pool, 200, [])
  const local: number[] = []
  const forwarded: number[] = []
  for (let r = 0; r < rounds; r++) {
    await measure(b.pool, perRound, local)
    await measure(a.pool, perRound, forwarded)
  }
  local.sort((x, y) => x - y)
  forwarded.sort((x, y) => x - y)
  const row = (name: string, xs: number[]) => `${name.padEnd(10)} p50 ${quantile(xs, 0.5).toFixed(2)} ms   p99 ${quantile(xs, 0.99).toFixed(2)} ms   (${xs.length} requests)`
  console.log(`GET /api/whatsapp/status, one request at a time, ${rounds} alternating rounds of ${perRound}`)
  console.log(row('local', local))
  console.log(row('forwarded', forwarded))
  const p50 = quantile(forwarded, 0.5) - quantile(local, 0.5)
  const p99 = quantile(forwarded, 0.99) - quantile(local, 0.99)
  console.log(`added by forwarding: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms (target < 5 ms) ${p50 < 5 ? 'OK' : 'OVER'}`)
} finally {
  await Promise.allSettled(pools.map((p) => p.close()))
  await Promise.allSettled(apps.map((app) => app.close()))
  await Promise.allSettled(dirs.map((d) => rm(d, { recursive: true, force: true })))
  await admin.unsafe(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`)
  await admin.end()
}

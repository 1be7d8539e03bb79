// fly.toml holds every setting the lease and the mirror need, parses as TOML, and carries no secret.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { parse } from 'smol-toml'

const root = fileURLToPath(new URL('../../', import.meta.url))
const text = await readFile(`${root}fly.toml`, 'utf8')

/** The part of fly.toml this test reads; parse() checks nothing, the assertions do. */
interface FlyToml {
  app: string
  primary_region: string
  kill_signal: string
  kill_timeout: string
  build?: { dockerfile?: string }
  deploy: { release_command: string; strategy: string }
  env: Record<string, string>
  http_service: {
    internal_port: number
    force_https: boolean
    auto_stop_machines: string
    auto_start_machines: boolean
    min_machines_running: number
    checks: Array<{ method: string; path: string; timeout: string; interval: string }>
  }
  mounts: { source: string; destination: string }
}
const fly = parse(text) as unknown as FlyToml

/** "30s" / "1m" / "500ms" -> ms, as Fly's duration strings. */
function ms(duration: string): number {
  const m = /^(\d+)(ms|s|m)$/.exec(duration)
  if (!m) throw new Error(`not a duration: ${duration}`)
  return Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000 } as const)[m[2] as 'ms' | 's' | 'm']
}

t.test('app, region, build', async (t) => {
  t.type(fly.app, 'string')
  t.ok(fly.app.length > 0)
  t.type(fly.primary_region, 'string')
  t.equal(fly.build?.dockerfile, 'Dockerfile')
})

t.test('[env] defaults: strings, production, postgres storage on the volume', async (t) => {
  t.same(
    Object.fromEntries(Object.entries(fly.env).filter(([k]) => k !== 'CLIENT_ID' && k !== 'SHUTDOWN_TIMEOUT_MS')),
    {
      NODE_ENV: 'production',
      PORT: '3000',
      HOST: '::',
      SESSION_PATH: '/data/whatsapp-session',
      SESSION_STORAGE: 'postgres',
      LOG_LEVEL: 'info',
    },
  )
  t.match(fly.env.CLIENT_ID, /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/)
  for (const [k, v] of Object.entries(fly.env)) t.type(v, 'string', `${k} is a string (Fly passes env as strings)`)
  t.ok(fly.env.SESSION_PATH.startsWith(`${fly.mounts.destination}/`), 'SESSION_PATH is on the mounted volume')
})

t.test('no secret in the file', async (t) => {
  for (const secret of ['DATABASE_URL', 'API_KEY', 'SESSION_ENCRYPTION_KEY', 'SUPABASE_SERVICE_ROLE_KEY']) {
    t.notOk(secret in fly.env, `${secret} is not in [env]`)
  }
  for (const secret of ['DATABASE_URL', 'API_KEY', 'SESSION_ENCRYPTION_KEY']) {
    t.match(text, new RegExp(`#.*${secret}`), `${secret} is listed in a comment (fly secrets set)`)
  }
  t.notMatch(text, /postgres(ql)?:\/\/[^.'"\s]+:[^@'"\s]+@/, 'no connection string with a password')
  t.match(text, /fly secrets set/)
})

t.test('[http_service]: port, https, never auto-stopped, one machine minimum, /health check', async (t) => {
  const s = fly.http_service
  t.equal(s.internal_port, 3000)
  t.equal(String(s.internal_port), fly.env.PORT, 'internal_port is the server PORT')
  t.equal(s.force_https, true)
  t.equal(s.auto_stop_machines, 'off')
  t.equal(s.auto_start_machines, true)
  t.equal(s.min_machines_running, 1)
  t.equal(s.checks.length, 1)
  t.match(s.checks[0], { method: 'GET', path: '/health' })
  t.ok(ms(s.checks[0].timeout) < ms(s.checks[0].interval), 'check timeout below its interval')
})

t.test('[deploy]: migrations as the release command, rolling strategy', async (t) => {
  t.equal(fly.deploy.release_command, 'node dist/scripts/migrate.js')
  t.equal(fly.deploy.strategy, 'rolling', 'bluegreen/canary are not available with volumes')
})

t.test('kill signal and timeout match the graceful shutdown', async (t) => {
  t.equal(fly.kill_signal, 'SIGTERM')
  const shutdownMs = Number(fly.env.SHUTDOWN_TIMEOUT_MS)
  t.ok(Number.isInteger(shutdownMs) && shutdownMs >= 10_000, `SHUTDOWN_TIMEOUT_MS ${shutdownMs}`)
  t.ok(ms(fly.kill_timeout) >= shutdownMs + 5_000, `kill_timeout ${fly.kill_timeout} leaves >= 5 s beyond SHUTDOWN_TIMEOUT_MS`)
  t.ok(ms(fly.kill_timeout) <= 300_000, 'Fly caps kill_timeout at 5 minutes')
})

t.test('[mounts]: the whatsapp_data volume on /data', async (t) => {
  t.same(fly.mounts, { source: 'whatsapp_data', destination: '/data' })
})

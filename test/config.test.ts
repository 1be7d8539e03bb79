import t from 'tap'
import { ConfigError, loadConfig, SUPABASE_ONLY_NOTICE } from '../src/config.js'

t.test('defaults with an empty environment: file storage, port 3000, no API key', async (t) => {
  const c = loadConfig({})
  t.equal(c.port, 3000)
  t.equal(c.host, '0.0.0.0')
  t.equal(c.nodeEnv, 'development')
  t.equal(c.clientId, 'default')
  t.equal(c.sessionPath, './whatsapp-session')
  t.equal(c.storage, 'file')
  t.equal(c.apiKey, undefined)
  t.equal(c.metricsPublic, false)
  t.equal(c.waWsUrl, undefined)
  t.same(c.rateLimit, { max: 120, windowMs: 60_000, sendMax: 20 })
  t.same(c.reconnect, { baseMs: 1000, maxMs: 60_000 })
  t.same(c.notices, [])
})

t.test('strings are converted and empty values count as unset', async (t) => {
  const c = loadConfig({ PORT: '8080', RATE_LIMIT_MAX: '5', METRICS_PUBLIC: 'true', API_KEY: '', CLIENT_ID: 'rafi-scheme-manager' })
  t.equal(c.port, 8080)
  t.equal(c.rateLimit.max, 5)
  t.equal(c.metricsPublic, true)
  t.equal(c.apiKey, undefined)
  t.equal(c.clientId, 'rafi-scheme-manager')
})

t.test('auto storage: postgres when DATABASE_URL is set', async (t) => {
  const c = loadConfig({ DATABASE_URL: 'postgres://u:p@h/db' })
  t.equal(c.storage, 'postgres')
  t.equal(c.databaseUrl, 'postgres://u:p@h/db')
  t.equal(loadConfig({ DATABASE_URL: 'postgres://u:p@h/db', SESSION_STORAGE: 'file' }).storage, 'file')
})

t.test('SUPABASE_URL alone: file storage and one sentence explaining DATABASE_URL', async (t) => {
  const c = loadConfig({ SUPABASE_URL: 'https://x.supabase.co', SUPABASE_SERVICE_ROLE_KEY: 'secret-role-key' })
  t.equal(c.storage, 'file')
  t.same(c.notices, [SUPABASE_ONLY_NOTICE])
  t.match(SUPABASE_ONLY_NOTICE, /DATABASE_URL/)
  t.notMatch(JSON.stringify(c), /secret-role-key/)
})

t.test('production without API_KEY refuses to start', async (t) => {
  t.throws(() => loadConfig({ NODE_ENV: 'production' }), { name: 'ConfigError', message: /API_KEY is required/ })
  t.equal(loadConfig({ NODE_ENV: 'production', API_KEY: 'k'.repeat(32) }).apiKey, 'k'.repeat(32))
})

t.test('every problem is listed at once, without echoing values', async (t) => {
  const secret = 'mysql://root:hunter2@db'
  try {
    loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: secret, CLIENT_ID: '../etc', WA_WS_URL: 'http://x' })
    t.fail('should throw')
  } catch (err) {
    t.ok(err instanceof ConfigError)
    const e = err as ConfigError
    t.equal(e.problems.length, 5, e.message)
    t.match(e.message, /PORT must be an integer from 1 to 65535/)
    t.match(e.message, /LOG_LEVEL must be one of fatal, error/)
    t.match(e.message, /DATABASE_URL must be/)
    t.match(e.message, /CLIENT_ID must be/)
    t.match(e.message, /WA_WS_URL must be/)
    t.notMatch(e.message, /hunter2/)
  }
})

t.test('cross-field checks', async (t) => {
  t.throws(() => loadConfig({ SESSION_STORAGE: 'postgres' }), /DATABASE_URL is required with SESSION_STORAGE=postgres/)
  t.throws(() => loadConfig({ SESSION_STORAGE: 'postgres', SUPABASE_URL: 'https://x.supabase.co' }), /SUPABASE_URL alone is not enough/)
  t.throws(() => loadConfig({ RECONNECT_BASE_MS: '5000', RECONNECT_MAX_MS: '1000' }), /RECONNECT_MAX_MS must be at least/)
  t.throws(() => loadConfig({ SESSION_ENCRYPTION_KEY: 'short' }), /SESSION_ENCRYPTION_KEY must be 32 bytes/)
  t.equal(loadConfig({ SESSION_ENCRYPTION_KEY: 'ab'.repeat(32) }).encryptionKey, 'ab'.repeat(32))
  t.equal(loadConfig({ SESSION_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') }).encryptionKey?.length, 44)
})

t.test('WA_WS_URL is passed through with a notice', async (t) => {
  const c = loadConfig({ WA_WS_URL: 'ws://127.0.0.1:1' })
  t.equal(c.waWsUrl, 'ws://127.0.0.1:1')
  t.match(c.notices.join(' '), /tests and development only/)
})

t.test('production: API_KEY must be at least 32 characters', async (t) => {
  t.throws(() => loadConfig({ NODE_ENV: 'production', API_KEY: 'a' }), {
    name: 'ConfigError',
    message: /API_KEY must be at least 32 characters when NODE_ENV=production: generate one with openssl rand -hex 32/,
  })
  t.throws(() => loadConfig({ NODE_ENV: 'production', API_KEY: 'k'.repeat(31) }), /at least 32 characters/)
  t.notMatch((() => { try { loadConfig({ NODE_ENV: 'production', API_KEY: 'short-secret' }) } catch (e) { return String(e) } return '' })(), /short-secret/, 'the key is not echoed')
  t.equal(loadConfig({ NODE_ENV: 'development', API_KEY: 'a' }).apiKey, 'a', 'any length outside production')
})

t.test('TRUST_PROXY: off by default, fly on Fly.io, hop counts and proxy addresses', async (t) => {
  t.equal(loadConfig({}).trustProxy, 'off')
  t.equal(loadConfig({ NODE_ENV: 'production', API_KEY: 'k'.repeat(32) }).trustProxy, 'off', 'production alone trusts no header')
  t.equal(loadConfig({ FLY_APP_NAME: 'app' }).trustProxy, 'fly')
  t.equal(loadConfig({ FLY_MACHINE_ID: '148e21b7' }).trustProxy, 'fly')
  t.equal(loadConfig({ FLY_APP_NAME: 'app', TRUST_PROXY: 'off' }).trustProxy, 'off', 'an explicit value wins')
  t.equal(loadConfig({ TRUST_PROXY: '2' }).trustProxy, 2)
  t.same(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.1,fd00::/8' }).trustProxy, ['10.0.0.0/8', '192.168.1.1', 'fd00::/8'])
  for (const bad of ['true', '0', '10', 'yes', '10.0.0.0/33', '300.1.1.1', 'fd00::/129', '10.0.0.0/8,']) {
    t.throws(() => loadConfig({ TRUST_PROXY: bad }), { message: /TRUST_PROXY must be off, fly, a number of proxy hops/ }, bad)
  }
})

t.test('REQUEST_TIMEOUT_MS: 30 s by default', async (t) => {
  t.equal(loadConfig({}).requestTimeoutMs, 30_000)
  t.equal(loadConfig({ REQUEST_TIMEOUT_MS: '5000' }).requestTimeoutMs, 5000)
  t.throws(() => loadConfig({ REQUEST_TIMEOUT_MS: '0' }), /REQUEST_TIMEOUT_MS must be an integer from 100/)
})

t.test('cluster: INTERNAL_URL as set (no trailing slash), derived from Fly.io private DNS when unset, else none', async (t) => {
  t.same(loadConfig({}).cluster, { internalUrl: null, flyMachineId: null, rebalanceBatch: 3, settleMs: 6666 })
  t.equal(loadConfig({ REBALANCE_SETTLE_MS: '60000' }).cluster.settleMs, 60_000)
  t.equal(loadConfig({ LEASE_TTL_MS: '3000' }).cluster.settleMs, 2000)
  t.equal(loadConfig({ INTERNAL_URL: 'http://10.0.0.5:3000/' }).cluster.internalUrl, 'http://10.0.0.5:3000')
  const fly = loadConfig({ FLY_MACHINE_ID: '148e21b7', FLY_APP_NAME: 'wa-backend', PORT: '8080' }).cluster
  t.same(fly, { internalUrl: 'http://148e21b7.vm.wa-backend.internal:8080', flyMachineId: '148e21b7', rebalanceBatch: 3, settleMs: 6666 })
  t.equal(loadConfig({ FLY_MACHINE_ID: '148e21b7', FLY_APP_NAME: 'a', INTERNAL_URL: 'http://[fdaa::3]:3000' }).cluster.internalUrl, 'http://[fdaa::3]:3000', 'INTERNAL_URL wins')
  t.equal(loadConfig({ FLY_MACHINE_ID: '148e21b7' }).cluster.internalUrl, null, 'no app name: nothing to derive')
  t.equal(loadConfig({ REBALANCE_BATCH: '10' }).cluster.rebalanceBatch, 10)
  for (const bad of ['10.0.0.5:3000', 'ftp://x', 'http://x/path']) {
    t.throws(() => loadConfig({ INTERNAL_URL: bad }), /INTERNAL_URL must be/, bad)
  }
  t.throws(() => loadConfig({ REBALANCE_BATCH: '0' }), /REBALANCE_BATCH must be/)
})

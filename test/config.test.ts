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

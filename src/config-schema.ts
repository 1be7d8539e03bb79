// The environment variables the server reads, as one TypeBox schema: names, types, ranges, defaults
// and a description each. config.ts validates the environment against it once and derives AppConfig.
import { Type, type Static } from '@sinclair/typebox'
import { CLIENT_ID_PATTERN } from './lib/client-id.js'

/** Shortest API key accepted with NODE_ENV=production (a guessable key is no key). */
export const API_KEY_MIN_LENGTH = 32

const Bool = Type.Union([Type.Literal('true'), Type.Literal('false'), Type.Literal('1'), Type.Literal('0')])
const Int = (min: number, max: number, def: number, description: string) =>
  Type.Integer({ minimum: min, maximum: max, default: def, description })

/** The raw environment, as strings (converted to numbers where the schema says so). */
export const EnvSchema = Type.Object({
  PORT: Int(1, 65535, 3000, 'TCP port the HTTP server listens on'),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0', description: 'interface to listen on (0.0.0.0 for containers)' }),
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], {
    default: 'development',
    description: 'production requires API_KEY',
  }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info', description: 'pino log level' },
  ),
  CLIENT_ID: Type.String({
    pattern: CLIENT_ID_PATTERN,
    default: 'default',
    description: 'the default session, started at boot (letters, digits, ., _ and -, at most 128)',
  }),
  SESSION_PATH: Type.String({ minLength: 1, default: './whatsapp-session', description: 'folder of session files' }),
  SESSION_STORAGE: Type.Union([Type.Literal('auto'), Type.Literal('postgres'), Type.Literal('file')], {
    default: 'auto',
    description: 'auto = postgres when DATABASE_URL is set, else file',
  }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://', description: 'Postgres connection string' })),
  DATABASE_POOL_MAX: Int(1, 100, 10, 'Postgres connections this instance opens at most (keystore, lease and everything else share them)'),
  SUPABASE_URL: Type.Optional(Type.String({ description: 'only detected, to explain that DATABASE_URL is needed' })),
  SUPABASE_SERVICE_ROLE_KEY: Type.Optional(Type.String({ description: 'only detected, never used' })),
  SESSION_ENCRYPTION_KEY: Type.Optional(
    Type.String({ description: '32 bytes as 64 hex characters or base64: AES-256-GCM at rest' }),
  ),
  API_KEY: Type.Optional(Type.String({ minLength: 1, description: `required when NODE_ENV=production, at least ${API_KEY_MIN_LENGTH} characters there` })),
  RATE_LIMIT_MAX: Int(1, 1_000_000, 120, 'requests per window per API key or IP'),
  RATE_LIMIT_WINDOW: Int(1000, 86_400_000, 60_000, 'rate-limit window in milliseconds'),
  SEND_RATE_LIMIT_MAX: Int(1, 1_000_000, 20, 'POST /send requests per window per API key or IP'),
  METRICS_PUBLIC: Type.Optional(Bool),
  TRUST_PROXY: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'whose word to take for the client IP (rate limits, logs): off, fly (the Fly-Client-IP header), the number of proxy hops (1-9) in front of the server, or the proxies\' addresses (comma-separated IPs or CIDR ranges)',
    }),
  ),
  REQUEST_TIMEOUT_MS: Int(100, 600_000, 30_000, 'time a client has to send a whole request (headers and body) before it gets 408'),
  FORWARD_TIMEOUT_MS: Int(1_000, 600_000, 60_000, 'cluster: longest wait for the answer of the instance a request is forwarded to (above SEND_ACK_TIMEOUT_MS) before 503 HOLDER_UNREACHABLE'),
  WA_WS_URL: Type.Optional(Type.String({ pattern: '^wss?://', description: 'test/dev only: Baileys websocket URL' })),
  SHUTDOWN_TIMEOUT_MS: Int(100, 600_000, 10_000, 'graceful shutdown bound'),
  RECONNECT_BASE_MS: Int(10, 600_000, 1_000, 'first reconnect delay'),
  RECONNECT_MAX_MS: Int(10, 3_600_000, 60_000, 'reconnect delay cap'),
  QR_TIMEOUT_MS: Int(5_000, 600_000, 60_000, 'lifetime of each QR code'),
  CLEANUP_INTERVAL_MS: Type.Integer({
    minimum: 0, maximum: 604_800_000, default: 21_600_000,
    description: 'automatic cleanup period (stale temp files, orphan mirror files, old inactive sessions); 0 = off',
  }),
  CLEANUP_INACTIVE_AFTER_DAYS: Int(0, 3650, 30, 'the automatic cleanup deletes sessions never linked or logged out that were not updated for this many days; 0 = never'),
  SESSION_LEASE: Type.Union([Type.Literal('on'), Type.Literal('off')], {
    default: 'on',
    description: 'Postgres mode: hold a lease row per session before connecting (on), or run as the only instance (off)',
  }),
  LEASE_TTL_MS: Int(1_000, 600_000, 10_000, 'session lease duration; a standby takes over within about one ttl plus a poll'),
  INSTANCE_ID: Type.Optional(
    Type.String({ pattern: '^[A-Za-z0-9._:-]{1,100}$', description: 'readable name of this instance in the lease (pid and a random suffix are appended)' }),
  ),
  FLY_MACHINE_ID: Type.Optional(Type.String({ description: 'set by Fly.io; the default INSTANCE_ID' })),
  INTERNAL_URL: Type.Optional(
    Type.String({ pattern: '^https?://[^\\s/?#]+/?$', description: 'how the other instances reach this one (e.g. http://10.0.0.5:3000); on Fly.io derived from FLY_MACHINE_ID and FLY_APP_NAME when unset' }),
  ),
  REBALANCE_BATCH: Int(1, 1000, 3, 'sessions an instance hands over per heartbeat to the instance placement prefers (after a new instance joined)'),
  REBALANCE_SETTLE_MS: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 86_400_000, description: 'how long a joining instance must have been live before sessions are handed over to it (default LEASE_TTL_MS x 2/3)' }),
  ),
  MAX_SESSIONS: Int(1, 100_000, 250, 'sessions this server runs at most; POST /sessions answers 503 SESSION_LIMIT_REACHED beyond it'),
  RESUME_CONCURRENCY: Int(1, 1000, 8, 'sessions that open their store and connect at once (resume after a restart, a takeover of many leases)'),
  FLY_APP_NAME: Type.Optional(Type.String({ description: 'set by Fly.io; it (or FLY_MACHINE_ID) makes TRUST_PROXY default to fly' })),
  MEDIA_MAX_BYTES: Int(1024, 2_147_483_647, 16_777_216, 'largest media file accepted by POST /send (URL, base64 or upload)'),
  MEDIA_FETCH_TIMEOUT_MS: Int(100, 600_000, 30_000, 'time the server gives a media URL to answer and deliver the whole file'),
  MEDIA_FETCH_MAX_REDIRECTS: Int(0, 10, 3, 'redirects followed when fetching a media URL'),
  MEDIA_URL_ALLOWED_NETWORKS: Type.Optional(
    Type.String({ minLength: 1, description: 'comma-separated IPs or CIDR ranges a media URL may resolve to although private, loopback or link-local (default: none)' }),
  ),
  SEND_BODY_MAX_BYTES: Int(262_144, 2_147_483_647, 262_144, 'largest JSON body POST /send accepts (base64 media travel in it; held in memory): 256 KiB like every route unless raised'),
  SEND_ACK_TIMEOUT_MS: Int(1000, 600_000, 20_000, 'time POST /send waits for WhatsApp\'s server to acknowledge a message before answering 504'),
  MESSAGE_RETENTION_DAYS: Int(1, 3650, 7, 'days sent and received messages are kept (retry receipts, replies, status, media download)'),
  EVENTS_RETENTION_HOURS: Int(1, 87_600, 72, 'hours events stay in the outbox (GET /events, the live stream, webhook redelivery) before the purge removes them'),
  MESSAGE_QUEUE_INTERVAL_MS: Int(0, 3_600_000, 1_000, 'minimum time between two queued messages of one session'),
  MESSAGE_QUEUE_JITTER_MS: Int(0, 3_600_000, 1_000, 'random extra delay (0 to this) added to each queued message\'s interval'),
  WEBHOOK_URL: Type.Optional(Type.String({ description: 'http(s) URL every session\'s events are POSTed to (signed; needs WEBHOOK_SECRET)' })),
  WEBHOOK_SECRET: Type.Optional(Type.String({ description: 'Standard Webhooks secret (whsec_ + base64) signing WEBHOOK_URL\'s requests; a comma list signs with each' })),
  WEBHOOK_SECRET_PREVIOUS: Type.Optional(Type.String({ description: 'the secret being rotated out: requests carry a signature with it too' })),
  WEBHOOK_EVENTS: Type.Optional(Type.String({ description: 'comma-separated event types WEBHOOK_URL receives (message.* style wildcards); default all' })),
  WEBHOOK_ALLOWED_HOSTS: Type.Optional(Type.String({ description: 'comma-separated hosts (or *.domain) webhook URLs may point to; default any' })),
  WEBHOOK_TIMEOUT_MS: Int(100, 120_000, 10_000, 'time a webhook consumer has to answer one request'),
  WEBHOOK_MAX_AGE_HOURS: Int(1, 720, 24, 'an event whose delivery keeps failing this long is dead-lettered'),
})
export type Env = Static<typeof EnvSchema>

// Every environment variable the server reads, in one TypeBox schema, validated once at boot.
// Only server.ts (and the operator scripts) pass process.env here; everything else receives the typed
// AppConfig, so tests can build any configuration without touching the environment.
import type { TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { isIP } from 'node:net'
import { hostname } from 'node:os'
import { API_KEY_MIN_LENGTH, EnvSchema, type Env } from './config-schema.js'
import { explainSupabaseConfig, supabaseOnlyNotice } from './db/index.js'
import { defaultLeaseOwner } from './lease/index.js'
import { FILTER_ENTRY_PATTERN } from './webhooks/filter.js'
import { isValidSecret } from './webhooks/secret.js'
import { checkTargetUrl } from './webhooks/target.js'

/** See AppConfig.trustProxy. */
export type TrustProxy = 'off' | 'fly' | number | readonly string[]


export { API_KEY_MIN_LENGTH, EnvSchema, type Env } from './config-schema.js'

export interface AppConfig {
  port: number
  host: string
  nodeEnv: 'development' | 'production' | 'test'
  logLevel: string
  clientId: string
  sessionPath: string
  storage: 'postgres' | 'file'
  databaseUrl?: string
  /** Size of the instance's one Postgres pool. */
  databasePoolMax: number
  encryptionKey?: string
  apiKey?: string
  rateLimit: { max: number; windowMs: number; sendMax: number }
  /** false (default): /metrics needs the API key like the API; true: open to unauthenticated scrapers. */
  metricsPublic: boolean
  /**
   * Where the client IP comes from: 'off' = the TCP peer; 'fly' = Fly.io's Fly-Client-IP header (set by
   * its proxy); a number = that many proxy hops in front of the server are trusted in X-Forwarded-For;
   * a list = X-Forwarded-For entries added by these proxy addresses (IPs or CIDR ranges) are trusted.
   */
  trustProxy: TrustProxy
  /** Time a client has to send a whole request before it is answered 408 and disconnected. */
  requestTimeoutMs: number
  /** Cluster routing: longest wait for the holder's answer to a forwarded request. */
  forwardTimeoutMs: number
  waWsUrl?: string
  shutdownTimeoutMs: number
  reconnect: { baseMs: number; maxMs: number }
  qrTimeoutMs: number
  /**
   * Session lease (Postgres mode only): enabled unless SESSION_LEASE=off. owner is unique per process
   * (INSTANCE_ID or FLY_MACHINE_ID or the hostname, then pid and a random suffix).
   */
  lease: { enabled: boolean; ttlMs: number; owner: string }
  /**
   * The cluster (Postgres mode with the lease on): how other instances reach this one (INTERNAL_URL,
   * or Fly's private DNS name of this Machine), and how many sessions one heartbeat hands over.
   */
  cluster: { internalUrl: string | null; flyMachineId: string | null; rebalanceBatch: number; settleMs: number }
  /** Sessions this server runs at most (running, resuming or waiting for a lease). */
  maxSessions: number
  /** Stored sessions started at once in the background after a restart. */
  resumeConcurrency: number
  /** Sending and the message store (see docs/messages.md). */
  messages: {
    mediaMaxBytes: number
    /** Largest JSON body of POST /send (base64 media). */
    sendBodyMaxBytes: number
    fetchTimeoutMs: number
    fetchMaxRedirects: number
    /** IPs/CIDR ranges a media URL may resolve to although not public. */
    allowedNetworks: string[]
    ackTimeoutMs: number
    retentionDays: number
    queue: { intervalMs: number; jitterMs: number }
  }
  /** Webhook delivery (see docs/webhooks.md). global: WEBHOOK_URL with its secrets (current first) and filter. */
  webhooks: {
    global: { url: string; secrets: string[]; events: string[] | null } | null
    allowedHosts: string[]
    timeoutMs: number
    maxAgeMs: number
  }
  /** The event outbox (docs/events.md). */
  events: { retentionHours: number }
  /** Automatic cleanup (0 = off): period, and age after which unlinked/logged-out sessions go (0 = never). */
  cleanup: { intervalMs: number; inactiveAfterDays: number }
  /** Sentences to log once at boot (configuration that works but probably not as the operator meant). */
  notices: string[]
}

/** The db module's one sentence, plus what happens meanwhile. */
export const SUPABASE_ONLY_NOTICE = `${supabaseOnlyNotice()} Sessions are kept in files until then.`

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration, fix these environment variables:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

/** Variable name of a TypeBox error path like "/PORT". */
const varName = (path: string) => path.replace(/^\//, '') || '(environment)'

/** Describes what a variable accepts from its schema, without echoing the (possibly secret) value. */
function expected(schema: TSchema | undefined): string {
  if (!schema) return 'a valid value'
  if (schema.anyOf) return `one of ${schema.anyOf.map((s: TSchema) => s.const).join(', ')}`
  if (schema.type === 'integer') return `an integer from ${schema.minimum} to ${schema.maximum}`
  if (schema.pattern) return `a value matching ${schema.pattern}`
  return schema.description ?? 'a valid value'
}

function validEncryptionKey(key: string): boolean {
  if (/^[0-9a-fA-F]{64}$/.test(key)) return true
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(key)) return false
  return Buffer.from(key, 'base64').length === 32
}

const TRUST_PROXY_RULE =
  'TRUST_PROXY must be off, fly, a number of proxy hops from 1 to 9, or comma-separated proxy addresses (IPs or CIDR ranges such as 10.0.0.0/8)'

/** An IP address, or a CIDR range with a prefix length that fits its family. */
function isAddressOrRange(value: string): boolean {
  const [address, prefix, ...rest] = value.split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0) return false
  if (prefix === undefined) return true
  return /^[0-9]{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128)
}

/** TRUST_PROXY as set, or null when it is not valid; unset: 'fly' on Fly.io (its proxy sets Fly-Client-IP), else 'off'. */
function trustProxyOf(e: Env): TrustProxy | null {
  const value = e.TRUST_PROXY ?? (e.FLY_APP_NAME !== undefined || e.FLY_MACHINE_ID !== undefined ? 'fly' : 'off')
  if (value === 'off' || value === 'fly') return value
  if (/^[1-9]$/.test(value)) return Number(value)
  const addresses = value.split(',').map((a) => a.trim())
  return addresses.every(isAddressOrRange) ? addresses : null
}

const list = (v: string | undefined) => (v ?? '').split(',').map((x) => x.trim()).filter(Boolean)

/** The webhook settings; pushes a sentence per problem (never a secret's value). */
function webhookConfig(e: Env, problems: string[]): AppConfig['webhooks'] {
  const allowedHosts = list(e.WEBHOOK_ALLOWED_HOSTS).map((h) => h.toLowerCase())
  const secrets = [...list(e.WEBHOOK_SECRET), ...list(e.WEBHOOK_SECRET_PREVIOUS)]
  const events = list(e.WEBHOOK_EVENTS)
  const base = { allowedHosts, timeoutMs: e.WEBHOOK_TIMEOUT_MS, maxAgeMs: e.WEBHOOK_MAX_AGE_HOURS * 3_600_000 }
  if (!allowedHosts.every((h) => /^(\*\.)?[a-z0-9.:[\]-]+$/.test(h))) problems.push('WEBHOOK_ALLOWED_HOSTS must be comma-separated host names, IPs or *.domain wildcards')
  if (!secrets.every(isValidSecret)) problems.push('WEBHOOK_SECRET and WEBHOOK_SECRET_PREVIOUS must be whsec_ followed by base64 of 24 to 64 random bytes (echo whsec_$(openssl rand -base64 32))')
  if (!events.every((x) => new RegExp(FILTER_ENTRY_PATTERN).test(x))) problems.push('WEBHOOK_EVENTS must be comma-separated event types such as message.received, or wildcards such as message.*')
  if (e.WEBHOOK_URL === undefined) return { global: null, ...base }
  if (list(e.WEBHOOK_SECRET).length === 0) {
    problems.push('WEBHOOK_SECRET is required when WEBHOOK_URL is set (there is no default secret): generate one with echo whsec_$(openssl rand -base64 32) and give it to the consumer')
  }
  try {
    checkTargetUrl(e.WEBHOOK_URL, allowedHosts)
  } catch (err) {
    problems.push(`WEBHOOK_URL is refused: ${(err as Error).message}`)
  }
  return { global: { url: e.WEBHOOK_URL, secrets, events: events.length > 0 ? events : null }, ...base }
}

/** Validates the environment once; throws ConfigError listing every problem (never the values). */
export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  // Empty strings count as unset: `FOO=` in a .env file or a compose file means "not configured".
  const raw: Record<string, string> = {}
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = env[key]
    if (value !== undefined && value.trim() !== '') raw[key] = value.trim()
  }
  const withDefaults = Value.Default(EnvSchema, Value.Convert(EnvSchema, raw))
  const problems: string[] = []
  const seen = new Set<string>()
  for (const err of Value.Errors(EnvSchema, withDefaults)) {
    const name = varName(err.path)
    if (seen.has(name)) continue
    seen.add(name)
    problems.push(`${name} must be ${expected(EnvSchema.properties[name as keyof Env] as TSchema | undefined)}`)
  }
  // The cross-field checks below still run when some variables are invalid, so the operator gets
  // every problem in one go; each check only reads variables that passed the schema.
  const e = withDefaults as Env
  const ok = (name: keyof Env) => !seen.has(name)

  if (ok('SESSION_ENCRYPTION_KEY') && e.SESSION_ENCRYPTION_KEY !== undefined && !validEncryptionKey(e.SESSION_ENCRYPTION_KEY)) {
    problems.push('SESSION_ENCRYPTION_KEY must be 32 bytes: 64 hex characters or 44 base64 characters (openssl rand -base64 32)')
  }
  if (ok('NODE_ENV') && e.NODE_ENV === 'production' && e.API_KEY === undefined) {
    problems.push('API_KEY is required when NODE_ENV=production: set a long random secret (openssl rand -hex 32)')
  }
  if (ok('NODE_ENV') && ok('API_KEY') && e.NODE_ENV === 'production' && e.API_KEY !== undefined && e.API_KEY.length < API_KEY_MIN_LENGTH) {
    problems.push(`API_KEY must be at least ${API_KEY_MIN_LENGTH} characters when NODE_ENV=production: generate one with openssl rand -hex 32`)
  }
  if (ok('SESSION_STORAGE') && ok('DATABASE_URL') && e.SESSION_STORAGE === 'postgres' && e.DATABASE_URL === undefined) {
    problems.push(
      e.SUPABASE_URL !== undefined
        ? 'DATABASE_URL is required with SESSION_STORAGE=postgres: SUPABASE_URL alone is not enough, use the Supabase Postgres connection string'
        : 'DATABASE_URL is required with SESSION_STORAGE=postgres (or set SESSION_STORAGE=file)',
    )
  }
  const trustProxy = ok('TRUST_PROXY') ? trustProxyOf(e) : 'off'
  if (trustProxy === null) problems.push(TRUST_PROXY_RULE)
  if (ok('CLEANUP_INTERVAL_MS') && e.CLEANUP_INTERVAL_MS > 0 && e.CLEANUP_INTERVAL_MS < 1000) problems.push('CLEANUP_INTERVAL_MS must be 0 (off) or at least 1000')
  if (ok('RECONNECT_MAX_MS') && ok('RECONNECT_BASE_MS') && e.RECONNECT_MAX_MS < e.RECONNECT_BASE_MS) problems.push('RECONNECT_MAX_MS must be at least RECONNECT_BASE_MS')
  const allowedNetworks = (e.MEDIA_URL_ALLOWED_NETWORKS ?? '').split(',').map((a) => a.trim()).filter(Boolean)
  if (ok('MEDIA_URL_ALLOWED_NETWORKS') && !allowedNetworks.every(isAddressOrRange)) {
    problems.push('MEDIA_URL_ALLOWED_NETWORKS must be comma-separated IPs or CIDR ranges (e.g. 10.0.0.0/8,192.168.1.20)')
  }
  const webhooks = webhookConfig(e, problems)
  if (problems.length > 0 || trustProxy === null) throw new ConfigError(problems)

  const storage =
    e.SESSION_STORAGE === 'file' ? 'file' : e.SESSION_STORAGE === 'postgres' || e.DATABASE_URL ? 'postgres' : 'file'
  const notices: string[] = []
  const supabaseOnly = explainSupabaseConfig({ supabaseUrl: e.SUPABASE_URL, serviceRoleKey: e.SUPABASE_SERVICE_ROLE_KEY, databaseUrl: e.DATABASE_URL })
  if (storage === 'file' && supabaseOnly !== null) notices.push(SUPABASE_ONLY_NOTICE)
  if (storage === 'file' && e.NODE_ENV === 'production') {
    notices.push('Sessions are stored in files only: on hosts with ephemeral disks set DATABASE_URL so they survive redeploys.')
  }
  if (storage === 'postgres' && e.SESSION_LEASE === 'off') {
    notices.push('SESSION_LEASE=off: run exactly one instance; two would both connect and evict each other (440).')
  }
  if (e.WA_WS_URL !== undefined) notices.push('WA_WS_URL overrides the WhatsApp websocket URL: for tests and development only.')

  return {
    port: e.PORT,
    host: e.HOST,
    nodeEnv: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    clientId: e.CLIENT_ID,
    sessionPath: e.SESSION_PATH,
    storage,
    databaseUrl: storage === 'postgres' ? e.DATABASE_URL : undefined,
    databasePoolMax: e.DATABASE_POOL_MAX,
    encryptionKey: e.SESSION_ENCRYPTION_KEY,
    apiKey: e.API_KEY,
    rateLimit: { max: e.RATE_LIMIT_MAX, windowMs: e.RATE_LIMIT_WINDOW, sendMax: e.SEND_RATE_LIMIT_MAX },
    metricsPublic: e.METRICS_PUBLIC === 'true' || e.METRICS_PUBLIC === '1',
    trustProxy,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    forwardTimeoutMs: e.FORWARD_TIMEOUT_MS,
    waWsUrl: e.WA_WS_URL,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    reconnect: { baseMs: e.RECONNECT_BASE_MS, maxMs: e.RECONNECT_MAX_MS },
    qrTimeoutMs: e.QR_TIMEOUT_MS,
    cleanup: { intervalMs: e.CLEANUP_INTERVAL_MS, inactiveAfterDays: e.CLEANUP_INACTIVE_AFTER_DAYS },
    messages: {
      mediaMaxBytes: e.MEDIA_MAX_BYTES,
      sendBodyMaxBytes: e.SEND_BODY_MAX_BYTES,
      fetchTimeoutMs: e.MEDIA_FETCH_TIMEOUT_MS,
      fetchMaxRedirects: e.MEDIA_FETCH_MAX_REDIRECTS,
      allowedNetworks,
      ackTimeoutMs: e.SEND_ACK_TIMEOUT_MS,
      retentionDays: e.MESSAGE_RETENTION_DAYS,
      queue: { intervalMs: e.MESSAGE_QUEUE_INTERVAL_MS, jitterMs: e.MESSAGE_QUEUE_JITTER_MS },
    },
    webhooks,
    events: { retentionHours: e.EVENTS_RETENTION_HOURS },
    maxSessions: e.MAX_SESSIONS,
    resumeConcurrency: e.RESUME_CONCURRENCY,
    lease: {
      enabled: storage === 'postgres' && e.SESSION_LEASE === 'on',
      ttlMs: e.LEASE_TTL_MS,
      owner: defaultLeaseOwner({ machineId: e.INSTANCE_ID ?? e.FLY_MACHINE_ID, hostname: hostname(), pid: process.pid }),
    },
    cluster: {
      internalUrl: internalUrlOf(e),
      flyMachineId: e.FLY_MACHINE_ID ?? null,
      rebalanceBatch: e.REBALANCE_BATCH,
      settleMs: e.REBALANCE_SETTLE_MS ?? 2 * Math.round(e.LEASE_TTL_MS / 3),
    },
    notices,
  }
}

/** INTERNAL_URL without a trailing slash; on Fly.io (unset) the Machine's private DNS name, which resolves over 6PN. */
function internalUrlOf(e: Env): string | null {
  if (e.INTERNAL_URL !== undefined) return e.INTERNAL_URL.replace(/\/$/, '')
  if (e.FLY_MACHINE_ID !== undefined && e.FLY_APP_NAME !== undefined) return `http://${e.FLY_MACHINE_ID}.vm.${e.FLY_APP_NAME}.internal:${e.PORT}`
  return null
}

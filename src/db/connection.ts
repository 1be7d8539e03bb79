// The Postgres pool (postgres.js), shaped for where it runs: Supabase wants TLS, a transaction-mode
// pooler (PgBouncer/Supavisor on 6543) cannot keep prepared statements. The URL is never logged whole.
import postgres from 'postgres'
import type { Logger } from 'pino'

export type Sql = postgres.Sql<{}>

export interface SqlOptions {
  logger?: Pick<Logger, 'debug' | 'warn'>
  /** Pool size (default 4: writes are group-committed, reads come from memory). */
  max?: number
  /** Seconds to wait for a connection (default 5). */
  connectTimeout?: number
  /** postgres.js debug hook (tests count queries with it). */
  debug?: (connection: number, query: string, parameters: unknown[]) => void
}

/** The URL with its password (and any password-like query parameter) masked, for logs and errors. */
export function redactUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl)
    if (url.password) url.password = '***'
    for (const key of [...url.searchParams.keys()]) {
      if (/pass|secret|token|key/i.test(key)) url.searchParams.set(key, '***')
    }
    return url.toString()
  } catch {
    return '(unparseable database URL)'
  }
}

/** Transaction-mode poolers hand each statement to any server connection: no prepared statements. */
export function isTransactionPooler(url: URL): boolean {
  return url.port === '6543' || /^(1|true)$/i.test(url.searchParams.get('pgbouncer') ?? '')
}

export function isSupabaseHost(hostname: string): boolean {
  return /(^|\.)supabase\.(co|com)$/i.test(hostname)
}

const SUPABASE_ONLY =
  'SUPABASE_URL/SUPABASE_SERVICE_ROLE_KEY are set but DATABASE_URL is not: this server talks to the ' +
  'database directly, so put the Postgres connection string (Supabase dashboard, Connect) in DATABASE_URL.'

/**
 * The sentence to show at start-up when only the Supabase HTTP settings are present. This server does
 * not use Supabase's REST API, so those settings alone cannot reach the tables.
 */
export function supabaseOnlyNotice(): string {
  return SUPABASE_ONLY
}

/** SUPABASE_ONLY when Supabase's HTTP settings are given without DATABASE_URL, else null. */
export function explainSupabaseConfig(env: {
  supabaseUrl?: string
  serviceRoleKey?: string
  databaseUrl?: string
}): string | null {
  if (env.databaseUrl) return null
  return env.supabaseUrl || env.serviceRoleKey ? SUPABASE_ONLY : null
}

/** What createSql derives from the URL alone (pure: tested without a network). */
export interface ConnectionOptions {
  /** The URL postgres.js gets: `pgbouncer` removed (it would be sent as a server parameter). */
  url: string
  prepare: boolean
  ssl: 'require' | undefined
  pooler: boolean
  supabase: boolean
}

export function connectionOptions(databaseUrl: string): ConnectionOptions {
  let url: URL
  try {
    url = new URL(databaseUrl)
  } catch {
    throw new Error('DATABASE_URL is not a valid postgres:// URL.')
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new Error('DATABASE_URL must start with postgres:// or postgresql://.')
  }
  const pooler = isTransactionPooler(url)
  const supabase = isSupabaseHost(url.hostname)
  url.searchParams.delete('pgbouncer')
  return {
    url: url.toString(),
    prepare: !pooler,
    // An explicit sslmode in the URL is the operator's choice; postgres.js honours it.
    ssl: supabase && !url.searchParams.has('sslmode') ? 'require' : undefined,
    pooler,
    supabase,
  }
}

export function createSql(databaseUrl: string, options: SqlOptions = {}): Sql {
  const c = connectionOptions(databaseUrl)
  options.logger?.debug({ database: redactUrl(c.url), pooler: c.pooler, tls: c.ssl !== undefined }, 'database pool created')
  return postgres(c.url, {
    max: options.max ?? 4,
    prepare: c.prepare,
    ...(c.ssl ? { ssl: c.ssl } : {}),
    connect_timeout: options.connectTimeout ?? 5,
    idle_timeout: 60,
    onnotice: () => {},
    ...(options.debug ? { debug: options.debug } : {}),
    connection: { application_name: 'whatsapp-backend' },
  })
}

// Shared set-up for the end-to-end tests: the real app (buildApp, real keystore, real Baileys) against
// the fake WhatsApp server, in Postgres mode on a fresh migrated database or in file mode.
// Every helper registers its own teardown, so a test file leaves no socket, port, timer or database.
import { Writable } from 'node:stream'
import { join } from 'node:path'
import { WA_CERT_DETAILS } from '@whiskeysockets/baileys'
import pino from 'pino'
import { buildApp, type AppOptions } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import type { Sql } from '../../src/db/index.js'
import { createSessionStore } from '../../src/keystore/index.js'
import type { SessionStoreOptions } from '../../src/keystore/types.js'
import {
  enforceSignatureVerification,
  isSignatureVerificationEnforced,
} from '../../src/whatsapp/signature-verification.js'
import { FIXTURE_ROOT_PUBLIC_KEY, startFakeWhatsApp, type FakeWhatsApp, type FakeWhatsAppOptions } from '../fake-whatsapp/index.js'
import { quietLibsignal } from '../fake-whatsapp/quiet.js'
import { unrefLongTimers } from '../fake-whatsapp/timers.js'
import { ADMIN_URL, createMigratedDatabase } from '../helpers/db.js'
import { createTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js'
import { poll } from '../helpers/poll.js'
import type { Teardown } from '../helpers/teardown.js'

/** The app as buildApp resolves it (awaiting Fastify's thenable instance drops its PromiseLike side). */
export type App = Awaited<ReturnType<typeof buildApp>>

export type { Teardown } from '../helpers/teardown.js'
export { tempDir } from '../helpers/temp-dir.js'
export { poll } from '../helpers/poll.js'

export const CLIENT_ID = 'e2e'
export const BOB = { pn: '15550002222', lid: '200000000000002', name: 'Bob' } as const
/** The account JID the fake's default account gets (companion device 7, as Baileys is told). */
export const ACCOUNT_PN = '15550001111'

/**
 * What server.ts does at start-up (the signature patch) plus what only tests do (trust the fixture
 * root, as test/fake-whatsapp/preload.ts does for child processes). Returns whether the patch is on.
 */
export function prepareProcess(): boolean {
  unrefLongTimers() // Baileys leaves 20-30 s timers behind after sock.end()
  quietLibsignal()
  enforceSignatureVerification()
  WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(FIXTURE_ROOT_PUBLIC_KEY)
  return isSignatureVerificationEnforced()
}

export async function startFake(t: Teardown, options: FakeWhatsAppOptions = {}): Promise<FakeWhatsApp> {
  const fake = await startFakeWhatsApp(options)
  t.teardown(() => fake.close())
  return fake
}

/** A fresh database for this file, migrated, plus a client for assertions. Both go at teardown. */
export function migratedDatabase(t: Teardown): Promise<{ url: string; sql: Sql }> {
  return createMigratedDatabase(t, 'wa_e2e')
}

/** A TCP proxy in front of the test Postgres server (cut() it for an outage); closed at teardown. */
export async function databaseProxy(t: Teardown): Promise<TcpProxy> {
  const admin = new URL(ADMIN_URL)
  const proxy = await createTcpProxy({ target: { host: admin.hostname, port: Number(admin.port || 5432) } })
  t.teardown(() => proxy.close())
  return proxy
}

export interface LogLine {
  level: number
  msg?: string
  [key: string]: unknown
}

export interface RunningApp {
  app: App
  /** warn and above, from the app and Baileys (Baileys' 'failed to decrypt message' lands here). */
  logs: LogLine[]
  close(): Promise<void>
}

export interface StartAppOptions {
  fake: FakeWhatsApp
  sessionPath: string
  databaseUrl?: string
  env?: Record<string, string>
  /** TLS options of the media URL fetcher (the messages tests trust their local file server). */
  mediaAgentOptions?: AppOptions['mediaAgentOptions']
  /** Keystore tuning (Postgres mode): faster outage probes for the outage test. */
  database?: SessionStoreOptions['database']
}

/** The real app, as server.ts builds it, pointed at the fake through WA_WS_URL. */
export async function startApp(t: Teardown, o: StartAppOptions): Promise<RunningApp> {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    CLIENT_ID,
    SESSION_PATH: o.sessionPath,
    WA_WS_URL: o.fake.url,
    RECONNECT_BASE_MS: '300',
    RECONNECT_MAX_MS: '2000',
    // The tests poll GET /status every 25 ms: the default 120 a minute would answer 429 within seconds.
    RATE_LIMIT_MAX: '100000',
    ...(o.databaseUrl ? { DATABASE_URL: o.databaseUrl } : { SESSION_STORAGE: 'file' }),
    ...o.env,
  })
  const logs: LogLine[] = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as LogLine)
      done()
    },
  })
  const logger = pino({ level: 'warn' }, sink)
  const createStore = o.database
    ? (options: SessionStoreOptions) => createSessionStore({ ...options, sql: undefined, database: o.database })
    : undefined
  const app = await buildApp({ config, logger, ...(createStore ? { createStore } : {}), ...(o.mediaAgentOptions ? { mediaAgentOptions: o.mediaAgentOptions } : {}) })
  let closing: Promise<void> | null = null
  const close = () => (closing ??= Promise.resolve(app.close()).then(() => undefined))
  t.teardown(close)
  return { app, logs, close }
}

/** Messages Baileys logged when it could not decrypt something (Bad MAC, no session, ...). */
export const decryptFailures = (logs: LogLine[]): LogLine[] =>
  logs.filter((l) => /decrypt/i.test(l.msg ?? '') || /Bad MAC/i.test(JSON.stringify(l)))

export interface Status {
  clientId: string
  state: string
  connected: boolean
  account: { jid: string; name: string | null } | null
  reconnect: { attempt: number; nextRetryAt: string | null }
  lastDisconnect: { code: number | null; reason: string } | null
}

export async function getJson<T = Record<string, unknown>>(app: App, url: string): Promise<{ status: number; body: T }> {
  const res = await app.inject({ method: 'GET', url })
  return { status: res.statusCode, body: res.json() as T }
}

export async function status(app: App): Promise<Status> {
  const res = await getJson<Status>(app, '/api/whatsapp/status')
  if (res.status !== 200) throw new Error(`GET /status answered ${res.status}`)
  return res.body
}

/** Polls GET /status until it is in `state`; returns every distinct state seen on the way. */
export async function waitForState(app: App, state: string, timeoutMs = 20_000): Promise<{ status: Status; seen: string[] }> {
  const seen: string[] = []
  const last = await poll(`status ${state}`, async () => {
    const s = await status(app)
    if (seen.at(-1) !== s.state) seen.push(s.state)
    return s.state === state && s
  }, timeoutMs, 25)
  return { status: last, seen }
}

export interface QrAnswer {
  qr: string
  expiresAt: string
  /** The not-ready answers before the QR (status and error code). */
  notReady: Array<{ status: number; code: string }>
}

/** Polls GET /qr until it answers 200; records the not-ready answers before it. */
export async function readQr(app: App, timeoutMs = 20_000): Promise<QrAnswer> {
  const notReady: QrAnswer['notReady'] = []
  return poll('a QR', async () => {
    const res = await getJson<{ qr: string; expiresAt: string; error?: { code: string } }>(app, '/api/whatsapp/qr')
    if (res.status === 200) return { qr: res.body.qr, expiresAt: res.body.expiresAt, notReady }
    notReady.push({ status: res.status, code: res.body.error?.code ?? '' })
    return undefined
  }, timeoutMs)
}

export async function send(app: App, to: string, text: string): Promise<{ status: number; body: { messageId?: string; to?: string; error?: { code: string } } }> {
  const res = await app.inject({ method: 'POST', url: '/api/whatsapp/send', payload: { to, text } })
  return { status: res.statusCode, body: res.json() }
}

/** QR pairing through the API: read the QR, let the fake phone scan it, wait for open. */
export async function pairByQr(app: App, fake: FakeWhatsApp): Promise<{ qr: QrAnswer; status: Status }> {
  const qr = await readQr(app)
  await fake.scanQR(qr.qr)
  const { status: s } = await waitForState(app, 'open')
  return { qr, status: s }
}

/** Waits until the fake decrypted a message with exactly `text`. */
export function receivedText(fake: FakeWhatsApp, text: string, timeoutMs = 15_000) {
  return fake.waitFor(() => fake.received().find((m) => m.text === text), timeoutMs)
}

/**
 * A contact writes to the account and waits for the app's receipt. Baileys sends a receipt only after
 * it decrypted the message (a failed decrypt answers with a 'retry' receipt instead), so a non-retry
 * receipt for the id proves the app read it.
 */
export async function contactWritesAndAppDecrypts(fake: FakeWhatsApp, pn: string, text: string, timeoutMs = 15_000) {
  const sent = await fake.contactSend(pn, text)
  const receipt = await fake.waitFor(() => fake.receipts().find((r) => r.id === sent.id), timeoutMs)
  return { sent, receipt, retries: fake.receipts().filter((r) => r.id === sent.id && r.type === 'retry') }
}

/** Database rows of a session: the whatsapp_sessions row and key counts by type. */
export async function storedInDb(sql: Sql, clientId = CLIENT_ID) {
  const [row] = await sql<Array<{ status: string; jid: string | null }>>`
    SELECT status, jid FROM whatsapp_sessions WHERE client_id = ${clientId}`
  const keys = await sql<Array<{ type: string; n: number }>>`
    SELECT type, count(*)::int AS n FROM whatsapp_session_keys WHERE client_id = ${clientId} GROUP BY type`
  return { row: row ?? null, keys: Object.fromEntries(keys.map((k) => [k.type, k.n])) as Record<string, number> }
}

export const mirrorFile = (sessionPath: string, clientId = CLIENT_ID) => join(sessionPath, `${clientId}.json`)

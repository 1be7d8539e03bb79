// Test helper: a real Baileys client pointed at the fake, with a file auth state in a temp dir
// (independent of the project's keystore) and a silent logger.
import makeWASocket, { useMultiFileAuthState, type ConnectionState, type WASocket, type WAMessage } from '@whiskeysockets/baileys'
import { pino } from 'pino'
import { unrefLongTimers } from './timers.js'

const logger = pino({ level: 'silent' })

export interface TestClient {
  sock: WASocket
  /** Every connection.update so far. */
  updates: Partial<ConnectionState>[]
  /** Every message from messages.upsert so far. */
  messages: WAMessage[]
  /** The messages.upsert type per message id: 'notify' (live) or 'append' (offline, history). */
  upsertTypes: Map<string, string>
  /** First QR string shown. */
  qr(): Promise<string>
  /** Resolves with the close status code (undefined if none). */
  closed(): Promise<number | undefined>
  open(): Promise<void>
  end(): void
}

export const statusCodeOf = (err: unknown): number | undefined => {
  if (!err || typeof err !== 'object' || !('output' in err)) return undefined
  const output = err.output
  if (!output || typeof output !== 'object' || !('statusCode' in output)) return undefined
  return typeof output.statusCode === 'number' ? output.statusCode : undefined
}

export const connectClient = async (url: string, authDir: string): Promise<TestClient> => {
  unrefLongTimers()
  const { state, saveCreds } = await useMultiFileAuthState(authDir)
  const sock = makeWASocket({
    auth: state,
    logger,
    waWebSocketUrl: url,
    markOnlineOnConnect: false,
    syncFullHistory: false,
    connectTimeoutMs: 10_000,
    defaultQueryTimeoutMs: 10_000,
  })
  sock.ev.on('creds.update', saveCreds)
  const updates: Partial<ConnectionState>[] = []
  const messages: WAMessage[] = []
  const upsertTypes = new Map<string, string>()
  const waiters: Array<() => void> = []
  const notify = () => {
    for (const w of waiters.splice(0)) w()
  }
  sock.ev.on('connection.update', u => {
    updates.push(u)
    notify()
  })
  sock.ev.on('messages.upsert', ({ messages: ms, type }) => {
    messages.push(...ms)
    for (const m of ms) if (m.key.id) upsertTypes.set(m.key.id, type)
    notify()
  })
  const until = <T>(pick: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs)
      const check = () => {
        let v: T | undefined
        try {
          v = pick()
        } catch (err) {
          clearTimeout(timer)
          reject(err)
          return
        }
        if (v !== undefined) {
          clearTimeout(timer)
          resolve(v)
        } else waiters.push(check)
      }
      check()
    })
  const closeUpdate = () => updates.find(u => u.connection === 'close')
  return {
    sock,
    updates,
    messages,
    upsertTypes,
    qr: () => until(() => updates.find(u => u.qr)?.qr, 'a QR'),
    closed: () => until(() => (closeUpdate() ? { code: statusCodeOf(closeUpdate()?.lastDisconnect?.error) } : undefined), 'close').then(x => x.code),
    open: () =>
      until(() => {
        const close = closeUpdate()
        if (close) throw new Error(`closed (${statusCodeOf(close.lastDisconnect?.error)}) instead of open`)
        return updates.some(u => u.connection === 'open') ? true : undefined
      }, 'open').then(() => undefined),
    end: () => sock.end(undefined),
  }
}

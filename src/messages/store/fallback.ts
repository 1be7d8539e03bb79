// The message store through a database outage, like the keystore: Postgres first, each call bounded in
// time; when it fails or hangs, the local file store (fsynced) takes the messages for a while, so
// sending and receiving go on (a received message must be kept before its receipt, and the receipt
// must not wait for the database). Reads look in both. Messages kept locally stay there (found by
// this instance) until the retention ends; they are not copied into Postgres afterwards.
import type { Logger } from 'pino'
import type { Clock } from '../../lib/clock.js'
import { withTimeout } from '../../lib/timeout.js'
import type { FileMessageStore } from './file.js'
import type { MessageStore } from './types.js'

export interface FallbackOptions {
  primary: MessageStore
  fallback: FileMessageStore
  /** Longest wait for the database before a call goes to the files. */
  timeoutMs: number
  /** After a failure, the files alone for this long, then the database is tried again. */
  retryAfterMs: number
  clock: Clock
  log: Logger
}

export function createFallbackMessageStore(o: FallbackOptions): MessageStore {
  let degradedUntil: number | null = null
  const degraded = () => degradedUntil !== null && o.clock.now() < degradedUntil
  // Whether the files hold any message: listed once, then true from the first save that goes there.
  // While they hold none, reads and receipts do not look in them (a failed file read per receipt).
  let keptLocally: Promise<boolean> | null = null
  const anyLocal = (): Promise<boolean> => (keptLocally ??= o.fallback.holdsAny().catch(() => true))

  async function primary<T>(what: string, work: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false }> {
    if (degraded()) return { ok: false }
    try {
      const value = await withTimeout(work(), o.timeoutMs, `message store: ${what}`, o.clock)
      if (degradedUntil !== null) {
        degradedUntil = null
        o.log.info('the database takes messages again')
      }
      return { ok: true, value }
    } catch (err) {
      if (!degraded()) o.log.warn({ err }, 'the database does not answer: messages are kept in local files meanwhile')
      degradedUntil = o.clock.now() + o.retryAfterMs
      return { ok: false }
    }
  }

  return {
    mode: o.primary.mode,
    async save(clientId, message, status) {
      const done = await primary('save', () => o.primary.save(clientId, message, status))
      if (done.ok) return
      keptLocally = Promise.resolve(true)
      await o.fallback.save(clientId, message, status)
    },
    async get(clientId, id) {
      const found = await primary('get', () => o.primary.get(clientId, id))
      if (found.ok && found.value) return found.value
      return (await anyLocal()) ? o.fallback.get(clientId, id) : null
    },
    async updateStatus(clientId, updates) {
      await primary('status', () => o.primary.updateStatus(clientId, updates))
      // A message kept locally during an outage gets its receipts locally (no file: nothing happens).
      if (await anyLocal()) await o.fallback.updateStatus(clientId, updates)
    },
    async purge(before) {
      const [a, b] = await Promise.all([primary('purge', () => o.primary.purge(before)), o.fallback.purge(before)])
      return (a.ok ? a.value : 0) + b
    },
  }
}

// One open session: Baileys' auth state kept in memory (reads never touch a disk or the network), and
// every change handed to the mode's sink, which persists it. Key ids are mapped to stored ids here
// (Codec.keyId), so everything below sees only stored ids.
import type { SignalDataTypeMap, SignalKeyStore } from '@whiskeysockets/baileys'
import type { Codec } from './codec.js'
import { HandleClosedError } from './errors.js'
import { countKeys, pickKeys, setKey } from './memory.js'
import type { Opened, WriteResult } from './modes/mode.js'
import { Encoded, type Dirty } from './state.js'
import type { AuthStateHandle, SessionStatus, SessionStoreOptions, StorageMode, StoreHealth } from './types.js'

export interface HandleOptions {
  mode: StorageMode
  opened: Opened
  codec: Codec
  mirrorPath: string
  onWrite?: SessionStoreOptions['onWrite']
  /** Called once when the handle closes (the store forgets it). */
  onClosed: () => void
}

/** Types Baileys writes in bulk and reads about once each: kept as stored text, decoded per read. */
const KEPT_ENCODED = new Set(['pre-key'])

export type SessionHandle = AuthStateHandle & {
  readonly clientId: string
  /** Closes without writing anything more (the session is being deleted). */
  discard(): Promise<void>
}

export function createSessionHandle(o: HandleOptions): SessionHandle {
  const { state, sink } = o.opened
  const { clientId } = state
  const { codec } = o
  let lastWriteAt: number | null = null
  let closed: Promise<void> | null = null
  let wiping = false
  let wiped = false

  function assertOpen(): void {
    if (closed || wiping || wiped) throw new HandleClosedError(clientId)
  }

  async function write(op: 'set' | 'creds', dirty: Dirty): Promise<void> {
    const started = o.onWrite ? performance.now() : 0
    let result: WriteResult | null = null
    try {
      result = await sink.write(dirty)
      lastWriteAt = Date.now()
    } finally {
      const seconds = o.onWrite ? (performance.now() - started) / 1000 : 0
      o.onWrite?.({ backend: result?.landed ?? o.mode, ok: result !== null, seconds, op, databaseFailed: result?.databaseFailed ?? false })
    }
  }

  const decode = (type: string, text: string) => codec.decode(type, text, clientId, true)

  const keyStore: SignalKeyStore = {
    async get<T extends keyof SignalDataTypeMap>(type: T, ids: string[]) {
      const started = performance.now()
      const found = pickKeys(state.keys, type, ids, ids.map((id) => codec.keyId(type, id)), decode)
      o.onWrite?.({ backend: o.mode, ok: true, seconds: (performance.now() - started) / 1000, op: 'get' })
      return found as { [id: string]: SignalDataTypeMap[T] }
    },
    async set(data) {
      assertOpen()
      // Memory first (reads see the change at once), then the write: one pass, stored ids only. Memory
      // holds everything stored, so a delete of a key it lacks changes nothing and is not written; a set
      // that changes nothing still waits for the writes before it (see createWriteQueue).
      const keys: Record<string, string[]> = {}
      for (const type in data) {
        const values = (data as Record<string, Record<string, unknown> | undefined>)[type]
        if (!values) continue
        let touched: string[] | null = null
        const encode = KEPT_ENCODED.has(type)
        for (const id in values) {
          const storedId = codec.keyId(type, id)
          const value = values[id]
          if (setKey(state.keys, type, storedId, value != null && encode ? new Encoded(codec.encode(type, value)) : value)) (touched ??= keys[type] = []).push(storedId)
        }
      }
      await write('set', { keys })
    },
  }

  function close(options: { discard?: boolean }): Promise<void> {
    closed ??= sink.close(options).finally(o.onClosed)
    return closed
  }

  return {
    clientId,
    state: { creds: state.creds, keys: keyStore },
    async saveCreds() {
      assertOpen()
      await write('creds', { creds: true })
    },
    async setStatus(next: SessionStatus, jid?: string | null) {
      assertOpen()
      state.status = next
      if (jid !== undefined) state.jid = jid
      await write('creds', { status: true, jid: jid !== undefined })
    },
    health(): StoreHealth {
      const h = sink.health()
      return {
        mode: o.mode,
        degraded: h.degraded,
        databaseReachable: h.databaseReachable,
        mirrorPath: o.mirrorPath,
        lastWriteAt: lastWriteAt === null ? null : new Date(lastWriteAt).toISOString(),
        version: state.version.seq,
        epoch: state.version.epoch,
        encryption: codec.encrypted,
        pendingCatchUp: h.pendingCatchUp,
      }
    },
    async keyCounts() {
      return countKeys(state.keys)
    },
    async wipe() {
      assertOpen()
      wiping = true
      try {
        await sink.remove()
      } finally {
        wiping = false
      }
      wiped = true
      state.keys.clear()
    },
    close: () => close({}),
    discard: () => close({ discard: true }),
  }
}

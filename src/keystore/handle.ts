// One open session: the live Baileys auth state kept in memory (reads never touch a disk or the
// network) and every change written through a group writer to the session's sink.
import { initAuthCreds, type AuthenticationCreds, type SignalDataTypeMap, type SignalKeyStore } from '@whiskeysockets/baileys'
import type { KeyMap, SessionSnapshot, SessionVersion, WriteBatch } from './backend.js'
import { HandleClosedError } from './errors.js'
import { applyKeyChanges, countKeys, copyKeys, pickKeys, type KeyChanges } from './memory.js'
import type { SessionSink } from './sink.js'
import type { AuthStateHandle, SessionStatus, SessionStoreOptions, StorageMode, StoreHealth } from './types.js'
import { createGroupWriter } from './writer.js'

export interface HandleOptions {
  clientId: string
  mode: StorageMode
  /** The loaded session, or null for a new one (fresh creds, written with the first change). */
  initial: SessionSnapshot | null
  /** Epoch of every write from this handle (the lease's fencing token, else the loaded epoch). */
  epoch: number
  encryption: boolean
  mirrorPath: string
  /** Built once the handle's memory exists (Postgres mode's catch-up reads the live state). */
  makeSink: (live: LiveSession) => SessionSink
  onWrite?: SessionStoreOptions['onWrite']
  /** Called once when the handle closes (the store forgets it). */
  onClosed: () => void
}

/** Read access to the handle's current state (for catch-up and tests). */
export interface LiveSession {
  snapshot(): SessionSnapshot
  /** Runs fn while no write is in flight; writes queued meanwhile wait for it. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>
}

export type SessionHandle = AuthStateHandle & LiveSession & { readonly clientId: string }

export function createSessionHandle(o: HandleOptions): SessionHandle {
  const { clientId } = o
  const creds: AuthenticationCreds = o.initial?.creds ?? initAuthCreds()
  const keys: KeyMap = o.initial ? o.initial.keys : new Map()
  const now = new Date().toISOString()
  let status: SessionStatus = o.initial?.status ?? 'inactive'
  let jid: string | null = o.initial?.jid ?? null
  const createdAt = o.initial?.createdAt ?? now
  let updatedAt = o.initial?.updatedAt ?? now
  let version: SessionVersion = { epoch: o.epoch, seq: o.initial?.version.seq ?? 0 }
  let stored = o.initial !== null // a new session's creds go with its first write
  let lastWriteAt: string | null = null
  let closed: Promise<void> | null = null
  let wiped = false

  function nextVersion(): SessionVersion {
    version = { epoch: o.epoch, seq: version.seq + 1 }
    return version
  }

  function snapshot(): SessionSnapshot {
    return { clientId, creds, keys: copyKeys(keys), version: { ...version }, status, jid, createdAt, updatedAt }
  }

  const live: LiveSession = { snapshot, exclusive: (fn) => writer.exclusive(fn) }
  const sink = o.makeSink(live)
  const writer = createGroupWriter((batch) => sink.persist(batch))

  function assertOpen(): void {
    if (closed || wiped) throw new HandleClosedError(clientId)
  }

  async function write(op: 'set' | 'creds', batch: Omit<WriteBatch, 'version'>): Promise<void> {
    assertOpen()
    const full: WriteBatch = { ...batch, version: nextVersion() }
    if (!stored) {
      full.creds = creds
      stored = true
    }
    updatedAt = new Date().toISOString()
    const started = performance.now()
    let ok = false
    try {
      await writer.submit(full)
      ok = true
      lastWriteAt = new Date().toISOString()
    } finally {
      const backend: StorageMode = sink.health().degraded ? 'file' : o.mode
      o.onWrite?.({ backend, ok, seconds: (performance.now() - started) / 1000, op })
    }
  }

  const keyStore: SignalKeyStore = {
    async get<T extends keyof SignalDataTypeMap>(type: T, ids: string[]) {
      const started = performance.now()
      const found = pickKeys(keys, type, ids) as { [id: string]: SignalDataTypeMap[T] }
      o.onWrite?.({ backend: o.mode, ok: true, seconds: (performance.now() - started) / 1000, op: 'get' })
      return found
    },
    async set(data) {
      assertOpen()
      applyKeyChanges(keys, data as KeyChanges)
      await write('set', { keys: data })
    },
  }

  async function close(): Promise<void> {
    await writer.idle()
    await sink.close()
    o.onClosed()
  }

  return {
    clientId,
    state: { creds, keys: keyStore },
    snapshot,
    exclusive: live.exclusive,
    saveCreds: () => write('creds', { creds }),
    async setStatus(next, nextJid) {
      assertOpen()
      status = next
      const batch: Omit<WriteBatch, 'version'> = { status: next }
      if (nextJid !== undefined) {
        jid = nextJid
        batch.jid = nextJid
      }
      await write('creds', batch)
    },
    health(): StoreHealth {
      const h = sink.health()
      return {
        mode: o.mode,
        degraded: h.degraded,
        databaseReachable: h.databaseReachable,
        mirrorPath: o.mirrorPath,
        lastWriteAt,
        version: version.seq,
        epoch: version.epoch,
        encryption: o.encryption,
        pendingCatchUp: h.pendingCatchUp,
      }
    },
    async keyCounts() {
      return countKeys(keys)
    },
    async wipe() {
      assertOpen()
      wiped = true
      await writer.idle()
      await sink.remove()
      keys.clear()
      stored = false
    },
    close() {
      closed ??= close()
      return closed
    },
  }
}

// The file backend: SESSION_PATH/{clientId}.json snapshots plus {clientId}.journal append logs (see
// format.ts), one writer per session (session-file.ts). The store in file mode, the mirror in
// Postgres mode. Fencing tokens mean nothing to local files and are ignored.
import { readFile } from 'node:fs/promises'
import type { AuthenticationCreds } from '@whiskeysockets/baileys'
import type { KeyMap, SessionBackend, SessionSnapshot, WriteBatch } from '../backend.js'
import type { Codec } from '../codec.js'
import type { StoredSession } from '../types.js'
import { applyBatch, FormatError, parseJournal, parseSnapshot, type EncodedBatch, type EncodedState } from './format.js'
import { ensureDir, isNotFound } from './fsio.js'
import { assertClientId, sessionPaths } from './paths.js'
import { scanSessionFolder } from './scan.js'
import {
  createSessionFile,
  DEFAULT_COMPACTION,
  type CompactionPolicy,
  type Log,
  type QuarantineEvent,
  type SessionFile,
  type WriterStats,
} from './session-file.js'

export interface FileBackendOptions {
  sessionPath: string
  codec: Codec
  logger?: Log
  /** Called when a damaged snapshot/journal is moved aside (the store reports it). */
  onQuarantine?: (event: QuarantineEvent) => void
  compaction?: Partial<CompactionPolicy>
  /**
   * Default true: apply resolves after fdatasync. false (e.g. a mirror whose source of truth is
   * Postgres): resolves once the kernel has the bytes, which survives a process kill but not a power cut.
   */
  durable?: boolean
  /** Fold each journal into its snapshot on close (default true). */
  compactOnClose?: boolean
}

function decodeState(codec: Codec, enc: EncodedState & { creds: string }): SessionSnapshot {
  const keys: KeyMap = new Map()
  for (const [type, ids] of enc.keys) {
    const live = new Map<string, unknown>()
    for (const [id, text] of ids) live.set(id, codec.decode(type, text, enc.clientId))
    if (live.size > 0) keys.set(type, live)
  }
  return {
    clientId: enc.clientId,
    creds: codec.decodeCreds(enc.creds, enc.clientId),
    keys,
    version: { ...enc.version },
    status: enc.status,
    jid: enc.jid,
    createdAt: enc.createdAt,
    updatedAt: enc.updatedAt,
  }
}

function encodeState(codec: Codec, snap: SessionSnapshot): EncodedState {
  const keys = new Map<string, Map<string, string>>()
  for (const [type, ids] of snap.keys) {
    const enc = new Map<string, string>()
    for (const [id, value] of ids) if (value !== null && value !== undefined) enc.set(id, codec.encode(type, value))
    keys.set(type, enc)
  }
  return {
    clientId: snap.clientId,
    status: snap.status,
    jid: snap.jid,
    version: { ...snap.version },
    createdAt: snap.createdAt,
    updatedAt: snap.updatedAt,
    creds: codec.encodeCreds(snap.creds),
    keys,
  }
}

function toStored(s: EncodedState): StoredSession {
  return { clientId: s.clientId, status: s.status, jid: s.jid, createdAt: s.createdAt, updatedAt: s.updatedAt, location: 'file' }
}

export function createFileBackend(options: FileBackendOptions) {
  const { sessionPath, codec, logger: log } = options
  const compaction: CompactionPolicy = { ...DEFAULT_COMPACTION, ...options.compaction }
  const stats: WriterStats = { appends: 0, snapshots: 0, fsyncs: 0, batches: 0, bytesAppended: 0, maxInFlight: 0 }
  const sessions = new Map<string, SessionFile>()
  const quarantined: QuarantineEvent[] = []
  let dirReady: Promise<void> | null = null

  function ready(): Promise<void> {
    dirReady ??= ensureDir(sessionPath).catch((err: unknown) => {
      dirReady = null
      throw err
    })
    return dirReady
  }

  function session(clientId: string): SessionFile {
    assertClientId(clientId)
    let s = sessions.get(clientId)
    if (!s) {
      s = createSessionFile({
        sessionPath,
        clientId,
        codec,
        log,
        compaction,
        stats,
        durable: options.durable !== false,
        onQuarantine: (event) => {
          quarantined.push(event)
          options.onQuarantine?.(event)
        },
      })
      sessions.set(clientId, s)
    }
    return s
  }

  /** Header fields of a session not open here, without quarantining or decoding anything. */
  async function peek(clientId: string): Promise<EncodedState | null> {
    const paths = sessionPaths(sessionPath, clientId)
    try {
      const { state, header } = parseSnapshot(await readFile(paths.snapshot, 'utf8'), clientId)
      const buf = await readFile(paths.journal).catch((err: unknown) => {
        if (isNotFound(err)) return null
        throw err
      })
      const journal = buf ? parseJournal(buf, header.journalId, clientId, header.keyCheck !== null) : null
      if (journal?.kind === 'ok') for (const b of journal.batches) applyBatch(state, b)
      return state
    } catch (err) {
      if (isNotFound(err)) return null
      if (err instanceof FormatError) {
        log?.warn({ clientId }, 'session file unreadable; left out of the list until it is opened')
        return null
      }
      throw err
    }
  }

  const backend = {
    kind: 'file' as const,

    async load(clientId: string): Promise<SessionSnapshot | null> {
      const s = session(clientId)
      await ready()
      const enc = await s.load()
      if (!enc) return null
      if (enc.creds === null) {
        log?.warn({ clientId }, 'session file has keys but no creds; treated as no session')
        return null
      }
      return decodeState(codec, { ...enc, creds: enc.creds })
    },

    async apply(clientId: string, batch: WriteBatch, _options?: { fencingToken?: number }): Promise<void> {
      const s = session(clientId)
      await ready()
      await s.apply(batch as Parameters<SessionFile['apply']>[0])
    },

    /** apply() for a batch encoded with this backend's codec (encodeBatch in format.ts). */
    async applyEncoded(clientId: string, encoded: EncodedBatch): Promise<void> {
      const s = session(clientId)
      await ready()
      await s.applyEncoded(encoded)
    },

    /** The codec values are encoded with (Postgres mode shares one codec: sync.ts encodes once). */
    codec,

    async replace(clientId: string, snapshot: SessionSnapshot, _options?: { fencingToken?: number }): Promise<void> {
      const s = session(clientId)
      await ready()
      await s.replace(encodeState(codec, { ...snapshot, clientId }))
    },

    async remove(clientId: string): Promise<boolean> {
      const s = session(clientId)
      await ready()
      return s.remove()
    },

    /**
     * The encryption key check against one stored session file (the first by name), without opening
     * it: throws what load() would for a wrong or missing key. Nothing stored: nothing to check.
     */
    async checkKey(): Promise<void> {
      const scan = await scanSessionFolder(sessionPath)
      for (const { clientId, snapshot } of scan.sessions) {
        if (!snapshot) continue
        let header: { keyCheck: string | null }
        try {
          header = parseSnapshot(await readFile(snapshot.path, 'utf8'), clientId).header
        } catch (err) {
          if (isNotFound(err) || err instanceof FormatError) continue
          throw err
        }
        codec.verifyKeyCheck(header.keyCheck, clientId)
        return
      }
    },

    async list(): Promise<StoredSession[]> {
      const scan = await scanSessionFolder(sessionPath)
      const out: StoredSession[] = []
      for (const { clientId, snapshot } of scan.sessions) {
        if (!snapshot) continue
        const state = sessions.get(clientId)?.current() ?? (await peek(clientId))
        if (state && state.creds !== null) out.push(toStored(state))
      }
      return out
    },

    /** Flushes, compacts and releases one session's files (the store calls it when a handle closes). */
    async closeSession(clientId: string): Promise<void> {
      const s = sessions.get(clientId)
      if (!s) return
      sessions.delete(clientId)
      await s.close(options.compactOnClose !== false)
    },

    async close(): Promise<void> {
      const all = [...sessions.values()]
      sessions.clear()
      await Promise.all(all.map((s) => s.close(options.compactOnClose !== false)))
    },

    /** Counters for tests and metrics (copies). */
    stats(): WriterStats {
      return { ...stats }
    },
    quarantined(): QuarantineEvent[] {
      return [...quarantined]
    },
    sessionFiles(clientId: string) {
      return sessionPaths(sessionPath, clientId)
    },
  }
  return backend satisfies SessionBackend
}

export type FileBackend = ReturnType<typeof createFileBackend>
export type { CompactionPolicy, QuarantineEvent, WriterStats }

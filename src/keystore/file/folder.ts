// The session folder: SESSION_PATH/{clientId}.json snapshots plus {clientId}.journal append logs (see
// format.ts). It hands out one SessionFile per session (the caller owns it and closes it; nothing is
// kept here per client id), lists what the folder holds and checks the encryption key against it.
import { readFile } from 'node:fs/promises'
import type { Codec } from '../codec.js'
import type { StoredSession } from '../types.js'
import { applyBatch, FormatError, parseJournal, parseSnapshot, type FileState } from './format.js'
import { isNotFound } from './fsio.js'
import { assertClientId, sessionPaths } from './paths.js'
import { DEFAULT_COMPACTION, type CompactionPolicy, type Log, type QuarantineEvent, type WriterStats } from './read.js'
import { snapshotIds } from './scan.js'
import { createSessionFile, type SessionFile } from './session.js'

export interface SessionFolderOptions {
  sessionPath: string
  codec: Codec
  logger?: Log
  compaction?: Partial<CompactionPolicy>
}

function toStored(s: FileState): StoredSession {
  return { clientId: s.clientId, status: s.status, jid: s.jid, createdAt: s.createdAt, updatedAt: s.updatedAt, location: 'file' }
}

export function createSessionFolder(options: SessionFolderOptions) {
  const { sessionPath, codec, logger: log } = options
  const compaction: CompactionPolicy = { ...DEFAULT_COMPACTION, ...options.compaction }
  const stats: WriterStats = { appends: 0, snapshots: 0, fsyncs: 0, batches: 0, bytesAppended: 0, maxInFlight: 0 }
  const quarantined: QuarantineEvent[] = []

  /** A session's files as they are (journal replayed), without quarantining or writing anything. */
  async function peek(clientId: string): Promise<FileState | null> {
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

  return {
    sessionPath,
    /** A writer for one session's files. Only one may be open per session: the store sees to it. */
    session(clientId: string): SessionFile {
      assertClientId(clientId)
      return createSessionFile({ sessionPath, clientId, codec, log, compaction, stats, quarantined })
    },

    /**
     * Sessions with a snapshot and creds, as their files say (or, for sessions open here, as `current`
     * says: their header fields in memory). The database marker and version come along for Postgres mode.
     */
    async list(current: (clientId: string) => FileState | null = () => null): Promise<Array<StoredSession & Pick<FileState, 'database' | 'version'>>> {
      const out: Array<StoredSession & Pick<FileState, 'database' | 'version'>> = []
      for (const clientId of await snapshotIds(sessionPath)) {
        const state = current(clientId) ?? (await peek(clientId))
        if (state && state.creds !== null) out.push({ ...toStored(state), database: state.database, version: state.version })
      }
      return out
    },

    /** The version and database marker of a session's files, read without writing (null: none stored). */
    peek,

    /**
     * The encryption key check against one stored session file (the first by client id), without opening
     * it: throws what reading it would for a wrong or missing key. Nothing stored: nothing to check.
     */
    async checkKey(): Promise<void> {
      for (const clientId of await snapshotIds(sessionPath)) {
        let header: { keyCheck: string | null }
        try {
          header = parseSnapshot(await readFile(sessionPaths(sessionPath, clientId).snapshot, 'utf8'), clientId).header
        } catch (err) {
          if (isNotFound(err) || err instanceof FormatError) continue
          throw err
        }
        codec.verifyKeyCheck(header.keyCheck, clientId)
        return
      }
    },

    /** Counters for tests (copies). */
    stats: (): WriterStats => ({ ...stats }),
    quarantined: (): QuarantineEvent[] => [...quarantined],
    paths: (clientId: string) => sessionPaths(sessionPath, clientId),
  }
}

export type SessionFolder = ReturnType<typeof createSessionFolder>

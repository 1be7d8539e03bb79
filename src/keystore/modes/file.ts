// File mode: the session folder is the store. A write is acknowledged once its journal line is
// fdatasynced. Opening reads the files once and checks every value; a failed open leaves them as found.
import { initAuthCreds } from '@whiskeysockets/baileys'
import type { Logger } from 'pino'
import type { Codec } from '../codec.js'
import { decodeState, withCodecKeyIds } from '../encoded.js'
import type { FileState, SessionFile, SessionFolder } from '../file/index.js'
import { freshState, type SessionState } from '../state.js'
import { createWriteQueue, type Mode, type Sink } from './mode.js'

export interface FileModeOptions {
  folder: SessionFolder
  codec: Codec
  logger?: Logger
}

/** The session read from its files, decoded and checked; null when there is none. Key ids are converted when the scheme changed. */
export function decodeFileState(
  stored: FileState | null,
  codec: Codec,
  log?: Logger,
): { state: SessionState; stored: FileState; converted: boolean } | null {
  if (!stored) return null
  if (stored.creds === null) {
    log?.warn({ clientId: stored.clientId }, 'session file has keys but no creds; treated as no session')
    return null
  }
  const converted = withCodecKeyIds(codec, stored)
  return {
    state: decodeState(codec, { ...converted, creds: stored.creds }),
    stored: { ...converted, database: stored.database },
    converted: converted !== stored,
  }
}

export function createFileMode({ folder, codec, logger: log }: FileModeOptions): Mode {
  const open = new Map<string, SessionFile>()

  function sinkFor(file: SessionFile, state: SessionState, clearMarker: boolean): Sink {
    // A mirror file records the database that had it; writes made here are not there, so the first one clears it.
    let marker = clearMarker
    const queue = createWriteQueue({
      state,
      codec,
      async commit(batch) {
        await file.append(marker ? { ...batch, database: null } : batch, { sync: true })
        marker = false
        return { landed: 'file', databaseFailed: false }
      },
      unchanged: () => ({ landed: 'file', databaseFailed: false }),
    })
    return {
      write: (dirty) => queue.submit(dirty),
      async remove() {
        await queue.idle()
        return file.remove()
      },
      health: () => ({ degraded: false, databaseReachable: null, pendingCatchUp: false }),
      async close(options = {}) {
        await queue.idle()
        if (open.get(state.clientId) === file) open.delete(state.clientId)
        await file.close({ compact: !options.discard })
      },
    }
  }

  return {
    mode: 'file',
    async open(clientId, { fencingToken }) {
      const file = folder.session(clientId)
      let found: ReturnType<typeof decodeFileState>
      try {
        found = decodeFileState(await file.read(), codec, log)
        if (found?.converted) {
          await file.replace(found.stored)
          log?.info({ clientId }, 'session key ids stored as keyed hashes')
        }
        await file.prepare()
      } catch (err) {
        await file.close({ compact: false })
        throw err
      }
      const state = found?.state ?? freshState(clientId, { epoch: 0, seq: 0 }, initAuthCreds(), new Date().toISOString())
      state.version = { epoch: fencingToken ?? state.version.epoch, seq: state.version.seq }
      open.set(clientId, file)
      return { state, sink: sinkFor(file, state, found !== null && found.stored.database !== null) }
    },
    async verify(clientId) {
      const file = folder.session(clientId)
      try {
        decodeFileState(await file.read(), codec, log)
      } finally {
        await file.close({ compact: false })
      }
    },
    preflight: () => folder.checkKey(),
    list: async () => (await folder.list((id) => open.get(id)?.current() ?? null)).map(({ database: _d, version: _v, ...s }) => s),
    async delete(clientId, discardOpen) {
      await discardOpen()
      const file = folder.session(clientId)
      try {
        return await file.remove()
      } finally {
        await file.close({ compact: false })
      }
    },
    ping: async () => null,
    async close() {
      await Promise.all([...open.values()].map((f) => f.close({ compact: true })))
      open.clear()
    },
  }
}

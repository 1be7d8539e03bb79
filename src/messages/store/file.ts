// The message store in local files (file mode): SESSION_PATH/.messages/store/<clientId>/<id>.msg holds
// the sealed message (fsynced before a send is answered), <id>.status its status (rewritten on each
// receipt; losing the latest one in a crash only loses a tick). Writes to one message are serialised.
import type { WAMessage } from '@whiskeysockets/baileys'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { decodeMessage, encodeMessage, type Sealer } from '../payload.js'
import { ensureDir, fileKey, readJson, removeFile, writeFileAtomic } from '../files.js'
import { readdirIfExists } from '../../lib/small-files.js'
import { nextStatus, nextTimes, type MessageStore, type StatusCode, type StatusTimes } from './types.js'

interface MsgFile { id: string; fromMe: boolean; payload: string; createdAt: string }
interface StatusFile { status: StatusCode; reason: string | null; times: Record<keyof StatusTimes, string | null> }

const NO_TIMES: StatusTimes = { sentAt: null, deliveredAt: null, readAt: null, playedAt: null, failedAt: null }
const toDates = (t: StatusFile['times']): StatusTimes =>
  Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v ? new Date(v) : null])) as unknown as StatusTimes
const toText = (t: StatusTimes): StatusFile['times'] =>
  Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v ? (v as Date).toISOString() : null])) as StatusFile['times']

export interface FileMessageStore extends MessageStore {
  /** Whether any message is kept here (one listing of the store's folder). */
  holdsAny(): Promise<boolean>
}

export function createFileMessageStore({ dir, sealer }: { dir: string; sealer: Sealer }): FileMessageStore {
  const base = join(dir, 'store')
  const chains = new Map<string, Promise<unknown>>()
  const folder = (clientId: string) => join(base, fileKey(clientId))
  const paths = (clientId: string, id: string) => {
    const f = join(folder(clientId), fileKey(id))
    return { msg: `${f}.msg`, status: `${f}.status` }
  }
  /** Runs fn after every earlier write to the same message. */
  function serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const run = (chains.get(key) ?? Promise.resolve()).then(fn, fn)
    const tail = run.catch(() => undefined)
    chains.set(key, tail)
    void tail.then(() => { if (chains.get(key) === tail) chains.delete(key) })
    return run
  }

  async function applyStatus(clientId: string, id: string, s: StatusCode, reason: string | null, at: Date): Promise<void> {
    const p = paths(clientId, id)
    const current = await readJson<StatusFile>(p.status)
    if (!current) return
    const status = nextStatus(current.status, s)
    if (status === current.status && status !== s) return
    const times = nextTimes(toDates(current.times), current.status === 0 ? current.status : s, at)
    const next: StatusFile = { status, reason: status === 0 && current.status !== 0 ? reason : current.reason, times: toText(times) }
    await writeFileAtomic(p.status, JSON.stringify(next), false)
  }

  return {
    mode: 'file',
    holdsAny: async () => (await readdirIfExists(base)).length > 0,
    async save(clientId, message: WAMessage, { status, reason = null, at }) {
      const id = message.key.id
      if (!id) return
      const p = paths(clientId, id)
      await serial(p.msg, async () => {
        if (await readJson<MsgFile>(p.msg)) return applyStatus(clientId, id, status, reason, at)
        await ensureDir(folder(clientId))
        const statusFile: StatusFile = { status, reason: status === 0 ? reason : null, times: toText(nextTimes(NO_TIMES, status, at)) }
        await writeFileAtomic(p.status, JSON.stringify(statusFile), false)
        const file: MsgFile = { id, fromMe: Boolean(message.key.fromMe), payload: sealer.seal(encodeMessage(message)), createdAt: at.toISOString() }
        await writeFileAtomic(p.msg, JSON.stringify(file))
      })
    },
    async get(clientId, id) {
      const p = paths(clientId, id)
      const file = await readJson<MsgFile>(p.msg)
      if (!file || file.id !== id) return null
      const s = (await readJson<StatusFile>(p.status)) ?? { status: 1, reason: null, times: toText(NO_TIMES) }
      return {
        clientId,
        id,
        fromMe: file.fromMe,
        message: decodeMessage(sealer.open(file.payload)),
        status: s.status,
        statusReason: s.reason,
        ...toDates(s.times),
        createdAt: new Date(file.createdAt),
      }
    },
    async updateStatus(clientId, updates) {
      for (const u of updates) {
        const p = paths(clientId, u.id)
        await serial(p.msg, () => applyStatus(clientId, u.id, u.status, u.reason ?? null, u.at))
      }
    },
    async purge(before) {
      let removed = 0
      const clients = await readdirIfExists(base)
      for (const client of clients) {
        for (const name of await readdir(join(base, client)).catch(() => [] as string[])) {
          if (!name.endsWith('.msg')) continue
          const path = join(base, client, name)
          const info = await stat(path).catch(() => null)
          if (!info || info.mtime >= before) continue
          await removeFile(path)
          await removeFile(path.replace(/\.msg$/, '.status'))
          removed++
        }
      }
      return removed
    },
  }
}

// The outbound queue in local files (file mode, one instance): SESSION_PATH/.messages/queue/<clientId>/
// one file per entry, named so that the names sort in arrival order, fsynced before the 202 answer.
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { SendRequest } from '../../schemas/send.js'
import { ensureDir, fileKey, isNotFound, readJson, removeFile, writeFileAtomic } from '../files.js'
import type { Sealer } from '../payload.js'
import type { QueueStore } from './types.js'

interface EntryFile {
  seq: number
  messageId: string
  request: string
  state: 'queued' | 'sending' | 'failed'
  error: string | null
  createdAt: string
}

export function createFileQueueStore({ dir, sealer, now = Date.now }: { dir: string; sealer: Sealer; now?: () => number }): QueueStore {
  const base = join(dir, 'queue')
  const folder = (clientId: string) => join(base, fileKey(clientId))
  const name = (seq: number) => `${String(seq).padStart(16, '0')}.json`
  let lastSeq = 0
  /** Entries this process is sending. */
  const claimed = new Set<string>()

  async function entries(clientId: string): Promise<EntryFile[]> {
    let names: string[]
    try {
      names = (await readdir(folder(clientId))).filter((n) => /^\d{16}\.json$/.test(n)).sort()
    } catch (err) {
      if (isNotFound(err)) return []
      throw err
    }
    const out: EntryFile[] = []
    for (const n of names) {
      const e = await readJson<EntryFile>(join(folder(clientId), n))
      if (e) out.push(e)
    }
    return out
  }
  const write = (clientId: string, e: EntryFile) => writeFileAtomic(join(folder(clientId), name(e.seq)), JSON.stringify(e))
  async function update(clientId: string, seq: number, change: Partial<EntryFile>): Promise<void> {
    const path = join(folder(clientId), name(seq))
    const e = await readJson<EntryFile>(path)
    if (e) await write(clientId, { ...e, ...change })
  }

  return {
    async enqueue(clientId, messageId, request) {
      await ensureDir(folder(clientId))
      if ((await entries(clientId)).some((e) => e.messageId === messageId)) return
      // Milliseconds times 1000 plus a counter: unique and increasing within this process.
      const seq = Math.max(now() * 1000, lastSeq + 1)
      lastSeq = seq
      await write(clientId, { seq, messageId, request: sealer.seal(JSON.stringify(request)), state: 'queued', error: null, createdAt: new Date(now()).toISOString() })
    },
    async waiting(clientId) {
      return (await entries(clientId)).filter((e) => e.state !== 'failed').length
    },
    async claim(clientId) {
      // One instance uses these files: an entry left "sending" by a crash (not claimed by this
      // process) is simply sent again.
      const next = (await entries(clientId)).find((e) => e.state !== 'failed')
      if (!next || claimed.has(`${clientId}/${next.seq}`)) return null
      claimed.add(`${clientId}/${next.seq}`)
      await write(clientId, { ...next, state: 'sending' })
      return { seq: next.seq, messageId: next.messageId, request: JSON.parse(sealer.open(next.request)) as SendRequest }
    },
    async done(clientId, seq) {
      claimed.delete(`${clientId}/${seq}`)
      await removeFile(join(folder(clientId), name(seq)))
    },
    async fail(clientId, seq, reason) {
      claimed.delete(`${clientId}/${seq}`)
      await update(clientId, seq, { state: 'failed', error: reason.slice(0, 500) })
    },
    async unclaim(clientId, seq) {
      claimed.delete(`${clientId}/${seq}`)
      await update(clientId, seq, { state: 'queued' })
    },
    async get(clientId, messageId) {
      const e = (await entries(clientId)).find((x) => x.messageId === messageId)
      return e ? { state: e.state, error: e.error, createdAt: new Date(e.createdAt) } : null
    },
    async withWork(clientIds) {
      const out: string[] = []
      for (const id of clientIds) if ((await entries(id)).some((e) => e.state !== 'failed')) out.push(id)
      return out
    },
    async purge(before) {
      let removed = 0
      const clients = await readdir(base).catch(() => [] as string[])
      for (const client of clients) {
        for (const n of await readdir(join(base, client)).catch(() => [] as string[])) {
          const path = join(base, client, n)
          const e = await readJson<EntryFile>(path).catch(() => null)
          const info = await stat(path).catch(() => null)
          if (e?.state === 'failed' && info && info.mtime < before) {
            await removeFile(path)
            removed++
          }
        }
      }
      return removed
    },
  }
}

// The outbox in local files (file mode): SESSION_PATH/.events/<clientId>.jsonl, one JSON line per
// event, appended and fsynced before append() resolves. Concurrent appends of a session are
// group-committed (one write and one fsync for all of them). Opening a session's file recovers its last
// seq and its dedupe keys; a torn last line (kill -9 in the middle of a write: no newline at the end)
// is cut off, since its append never resolved. The retention purge rewrites the file atomically,
// starting with a line that keeps the last seq, so numbering continues after everything expired.
// A session's events stay in memory once read (file mode is for one small instance).
import { open, readdir, rename, stat, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { ensureDir, FILE_MODE, fsyncDir, isNotFound, writeTemp } from '../../keystore/file/fsio.js'
import { assertClientId } from '../../lib/client-id.js'
import { createGroupCommit, type GroupCommit } from '../../lib/group-commit.js'
import { newEventId } from '../ids.js'
import type { EventOutbox, NewEvent, StoredEvent } from '../types.js'
import { appendLines, openLines, toLines } from './jsonl.js'
import { createListeners, uniqueInBatch } from './listeners.js'

interface Line extends StoredEvent { key?: string; at: string }
interface Meta { meta: { lastSeq: number } }
interface Log {
  clientId: string
  path: string
  handle: FileHandle
  events: Line[]
  keys: Set<string>
  lastSeq: number
  commits: GroupCommit<Batch>
}
interface Batch { events: NewEvent[]; out: StoredEvent[] }

const SUFFIX = '.jsonl'
const stored = ({ key: _key, at: _at, ...event }: Line): StoredEvent => event

export function createFileOutbox({ dir, now = () => new Date(), onListenerError }: { dir: string; now?: () => Date; onListenerError?: (err: unknown) => void }): EventOutbox {
  const listeners = createListeners(onListenerError)
  const logs = new Map<string, Promise<Log>>()
  let closed = false

  async function load(clientId: string): Promise<Log> {
    await ensureDir(dir)
    const path = join(dir, `${clientId}${SUFFIX}`)
    const { handle, lines } = await openLines<Line | Meta>(path)
    const log: Log = { clientId, path, handle, events: [], keys: new Set(), lastSeq: 0, commits: createGroupCommit<Batch>((batches) => commit(log, batches)) }
    for (const line of lines) {
      if ('meta' in line) {
        log.lastSeq = Math.max(log.lastSeq, line.meta.lastSeq)
        continue
      }
      log.events.push(line)
      log.lastSeq = Math.max(log.lastSeq, line.seq)
      if (line.key) log.keys.add(line.key)
    }
    return log
  }

  /** The session's log; for reads of a session with no file, null (no file or handle is created). */
  async function existing(clientId: string): Promise<Log | null> {
    assertClientId(clientId)
    if (!logs.has(clientId) && !closed && !(await stat(join(dir, `${clientId}${SUFFIX}`)).then(() => true, (err: unknown) => (isNotFound(err) ? false : Promise.reject(err))))) return null
    return logOf(clientId)
  }

  function logOf(clientId: string): Promise<Log> {
    if (closed) return Promise.reject(new Error('the event outbox is closed'))
    assertClientId(clientId)
    let log = logs.get(clientId)
    if (!log) {
      log = load(clientId)
      logs.set(clientId, log)
      log.catch(() => logs.delete(clientId))
    }
    return log
  }

  async function commit(log: Log, batches: Batch[]): Promise<void> {
    const at = now().toISOString()
    const lines: Line[] = []
    const keys = new Set<string>()
    let seq = log.lastSeq
    for (const batch of batches) {
      for (const e of uniqueInBatch(batch.events)) {
        if (e.dedupeKey !== undefined && (log.keys.has(e.dedupeKey) || keys.has(e.dedupeKey))) continue
        if (e.dedupeKey !== undefined) keys.add(e.dedupeKey)
        const line: Line = { id: e.id ?? newEventId(), type: e.type, clientId: log.clientId, seq: ++seq, timestamp: e.timestamp, data: e.data, at, ...(e.dedupeKey !== undefined ? { key: e.dedupeKey } : {}) }
        lines.push(line)
        batch.out.push(stored(line))
      }
    }
    if (lines.length === 0) return
    try {
      await appendLines(log.handle, lines)
    } catch (err) {
      for (const b of batches) b.out.length = 0
      // What was written (in part) is not known: read the file again before the next append.
      forget(log)
      throw err
    }
    log.events.push(...lines)
    for (const k of keys) log.keys.add(k)
    log.lastSeq = seq
  }

  function forget(log: Log): void {
    void logs.get(log.clientId)?.then((l) => {
      if (l === log) logs.delete(log.clientId)
    })
    void log.handle.close().catch(() => undefined)
  }

  async function purgeLog(log: Log, before: Date): Promise<number> {
    return log.commits.exclusive(async () => {
      const keep = log.events.filter((e) => new Date(e.at) >= before)
      const removed = log.events.length - keep.length
      if (removed === 0) return 0
      const meta: Meta = { meta: { lastSeq: log.lastSeq } }
      const tmp = await writeTemp(log.path, toLines([meta, ...keep]))
      await log.handle.close()
      await rename(tmp, log.path)
      await fsyncDir(dir)
      log.handle = await open(log.path, 'a+', FILE_MODE)
      log.events = keep
      log.keys = new Set(keep.flatMap((e) => (e.key ? [e.key] : [])))
      return removed
    })
  }

  return {
    async append(clientId, events) {
      if (events.length === 0) return []
      const log = await logOf(clientId)
      const batch: Batch = { events, out: [] }
      await log.commits.submit(batch)
      listeners.emit(batch.out)
      return batch.out
    },
    async after(clientId, afterSeq, limit) {
      const log = await existing(clientId)
      if (!log) return []
      // Binary search: events are in seq order.
      let lo = 0
      let hi = log.events.length
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (log.events[mid].seq <= afterSeq) lo = mid + 1
        else hi = mid
      }
      return log.events.slice(lo, lo + limit).map(stored)
    },
    async lastSeq(clientId) {
      return (await existing(clientId))?.lastSeq ?? 0
    },
    subscribe: listeners.subscribe,
    async purge(olderThan) {
      let names: string[]
      try {
        names = await readdir(dir)
      } catch (err) {
        if (isNotFound(err)) return 0
        throw err
      }
      let removed = 0
      for (const name of names) {
        if (!name.endsWith(SUFFIX)) continue
        removed += await purgeLog(await logOf(name.slice(0, -SUFFIX.length)), olderThan)
      }
      return removed
    },
    async close() {
      closed = true
      const all = await Promise.allSettled([...logs.values()])
      logs.clear()
      for (const r of all) {
        if (r.status !== 'fulfilled') continue
        await r.value.commits.idle()
        await r.value.handle.close().catch(() => undefined)
      }
    },
  }
}

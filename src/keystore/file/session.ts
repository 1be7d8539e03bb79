// One session's files and the single writer that owns them. Appends are group-committed (see
// src/lib/group-commit.ts): while one append is in flight, new entries queue and all go out in the next
// single write (and fdatasync), so each caller resolves once its own bytes are on disk. The journal is
// folded into a fresh snapshot when it grows past the snapshot's size (amortised O(1) per write), past
// maxEntries, and on close if this process appended to it. Reading never writes: a torn tail or a
// journal left from an interrupted compaction is repaired before the first append.
import { randomBytes } from 'node:crypto'
import { ftruncateSync, writeSync } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { createGroupCommit } from '../../lib/group-commit.js'
import type { Codec } from '../codec.js'
import { applyBatch, emptyState, journalHeaderLine, serializeBatch, serializeSnapshot, type FileState, type JournalEntry } from './format.js'
import { ensureDir, removeFiles, replaceFiles, FILE_MODE } from './fsio.js'
import { sessionPaths } from './paths.js'
import { readSessionFiles, type CompactionPolicy, type ReadContext, type WriterStats } from './read.js'

export interface SessionFileContext extends Omit<ReadContext, 'paths'> {
  sessionPath: string
  codec: ReadContext['codec'] & Pick<Codec, 'keyCheck' | 'keyIds'>
  compaction: CompactionPolicy
  stats: WriterStats
}

interface Pending {
  /** A write batch, or a new database marker only (its line is built at flush, at the current version). */
  entry: JournalEntry | { database: string | null }
  sync: boolean
}

export function createSessionFile(ctx: SessionFileContext) {
  const { clientId, codec, log, stats } = ctx
  const paths = sessionPaths(ctx.sessionPath, clientId)
  let state: FileState = emptyState(clientId, new Date().toISOString(), codec.keyIds)
  let loaded = false // state is what the files hold (false before the first read and after a failed write)
  let onDisk = false
  let journal: FileHandle | null = null
  let repair: { journalId: string; stale: boolean; truncateTo: number | null } | null = null
  let journalBytes = 0
  let journalEntries = 0
  let snapshotBytes = 0
  let appendedSinceSnapshot = false
  let inFlight = 0
  const queue = createGroupCommit<Pending>(flush)

  async function closeJournal(): Promise<void> {
    const handle = journal
    journal = null
    await handle?.close()
  }

  async function readFiles(): Promise<FileState | null> {
    await closeJournal()
    loaded = false
    const found = await readSessionFiles({ paths, clientId, codec, log, quarantined: ctx.quarantined })
    state = found?.state ?? emptyState(clientId, new Date().toISOString(), codec.keyIds)
    onDisk = found !== null
    repair = found?.repair ?? null
    snapshotBytes = found?.snapshotBytes ?? 0
    journalBytes = found?.journalBytes ?? 0
    journalEntries = found?.journalEntries ?? 0
    loaded = true
    return found?.state ?? null
  }

  /** Opens the journal for appending, after the repairs reading found necessary. */
  async function openJournal(): Promise<FileHandle> {
    if (journal) return journal
    if (repair?.stale) {
      // Missing, or left over from before the last compaction (already in the snapshot): start a new one.
      const header = journalHeaderLine(clientId, repair.journalId)
      await replaceFiles([{ path: paths.journal, data: header }])
      journalBytes = Buffer.byteLength(header)
    }
    const handle = await open(paths.journal, 'a', FILE_MODE)
    if (repair?.truncateTo != null) {
      await handle.truncate(repair.truncateTo)
      await handle.sync()
    }
    repair = null
    journal = handle
    return handle
  }

  /** Writes memory as a new snapshot and an empty journal naming it; the old journal dies with the rename. */
  async function writeSnapshot(): Promise<void> {
    const journalId = randomBytes(8).toString('hex')
    const text = serializeSnapshot(state, { journalId, keyCheck: codec.keyCheck })
    const header = journalHeaderLine(clientId, journalId)
    await closeJournal()
    await ensureDir(ctx.sessionPath) // an operator may have removed the folder under us
    inFlight++
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight)
    try {
      await replaceFiles([
        { path: paths.snapshot, data: text },
        { path: paths.journal, data: header },
      ])
    } finally {
      inFlight--
    }
    stats.snapshots++
    stats.fsyncs += 2
    snapshotBytes = Buffer.byteLength(text)
    journalBytes = Buffer.byteLength(header)
    journalEntries = 0
    appendedSinceSnapshot = false
    repair = null
    onDisk = true
  }

  /** Appends whole lines to the open journal; a failure cuts off whatever part made it (never a torn line). */
  async function append(data: string, entries: number, sync: boolean): Promise<void> {
    const handle = await openJournal()
    inFlight++
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight)
    try {
      if (sync) {
        const buf = Buffer.from(data)
        let offset = 0
        while (offset < buf.length) offset += (await handle.write(buf, offset, buf.length - offset)).bytesWritten
        await handle.datasync()
        stats.fsyncs++
        appended(buf.length, entries)
      } else {
        writeNow(handle, data, entries)
      }
    } catch (err) {
      await handle.truncate(journalBytes).catch(() => {})
      throw err
    } finally {
      inFlight--
    }
  }

  /**
   * Into the page cache, on this thread: a few microseconds, cheaper than a trip through libuv's thread
   * pool (a mirror appends once per write, beside every database statement). Throws after cutting the tail.
   */
  function writeNow(handle: FileHandle, data: string, entries: number): void {
    const bytes = Buffer.byteLength(data)
    let written = 0
    try {
      written = writeSync(handle.fd, data)
      if (written < bytes) {
        const buf = Buffer.from(data)
        while (written < bytes) written += writeSync(handle.fd, buf, written, bytes - written)
      }
    } catch (err) {
      if (written > 0) ftruncateSync(handle.fd, journalBytes)
      throw err
    }
    appended(bytes, entries)
  }

  function appended(bytes: number, entries: number): void {
    stats.appends++
    stats.bytesAppended += bytes
    journalBytes += bytes
    journalEntries += entries
    appendedSinceSnapshot = true
  }

  function shouldCompact(): boolean {
    const { minBytes, ratio, maxEntries } = ctx.compaction
    return journalEntries > 0 && (journalBytes > Math.max(minBytes, snapshotBytes * ratio) || journalEntries >= maxEntries)
  }

  /** The journal entries of a group, in order; a marker takes the version the entries before it reached. */
  function entriesOf(group: Pending[]): JournalEntry[] {
    let version = state.version
    let at = state.updatedAt
    return group.map(({ entry }) => {
      if ('version' in entry) {
        version = entry.version
        at = entry.at
        return entry
      }
      return { version, at, database: entry.database }
    })
  }

  async function flush(group: Pending[]): Promise<void> {
    try {
      if (!loaded) await readFiles()
      const entries = entriesOf(group)
      if (!onDisk) {
        state.createdAt = entries[0].at
        for (const e of entries) applyBatch(state, e)
        await writeSnapshot()
      } else {
        await append(entries.map((e) => serializeBatch(e, codec.encrypted)).join(''), entries.length, group.some((p) => p.sync))
        for (const e of entries) applyBatch(state, e)
      }
    } catch (err) {
      return failed(err, group.length)
    }
    stats.batches += group.length
    if (shouldCompact()) void queue.exclusive(compact)
  }

  /** A write failed: re-read the files before writing again. */
  async function failed(err: unknown, entries: number): Promise<never> {
    loaded = false
    await closeJournal().catch(() => {})
    log?.error({ err, clientId, entries }, 'session file write failed')
    throw err
  }

  async function compact(): Promise<void> {
    if (!loaded || !onDisk || journalEntries === 0) return
    try {
      await writeSnapshot()
    } catch (err) {
      loaded = false // the journal on disk still holds everything acknowledged
      log?.warn({ err, clientId }, 'journal compaction failed; will retry')
    }
  }

  return {
    paths,
    /** The session as its files hold it, or null when none is stored (after a quarantine too). Writes nothing. */
    read: () => queue.exclusive(readFiles),
    /**
     * Readies the files for appends once the session is known to be good: cuts an unacknowledged torn
     * tail, starts a fresh journal in place of one already folded into the snapshot. Lazy otherwise.
     */
    prepare(): Promise<void> {
      return queue.exclusive(async () => {
        if (loaded && onDisk) await openJournal()
      })
    },
    /** Durable (fdatasync) when it resolves if `sync`; else once the kernel has the bytes (survives a kill). */
    append(batch: JournalEntry, options: { sync: boolean }): Promise<void> {
      if (!options.sync && journal && loaded && onDisk && queue.idleNow()) {
        // Nothing queued or running: this is the group of one the queue would write, written now.
        try {
          writeNow(journal, serializeBatch(batch, codec.encrypted), 1)
        } catch (err) {
          return failed(err, 1)
        }
        applyBatch(state, batch)
        stats.batches++
        if (shouldCompact()) void queue.exclusive(compact)
        return Promise.resolve()
      }
      return queue.submit({ entry: batch, sync: options.sync })
    },
    /** Records which database holds this session (null: none is known to); appended without fsync. */
    mark(database: string | null): Promise<void> {
      if (loaded && state.database === database) return Promise.resolve()
      return queue.submit({ entry: { database }, sync: false })
    },
    /** Makes every append so far durable (fdatasync), after the ones in flight. */
    sync(): Promise<void> {
      return queue.exclusive(async () => {
        if (!journal) return // nothing appended since the last snapshot, which was synced
        await journal.datasync()
        stats.fsyncs++
      })
    },
    /** Replaces everything with this state (a new snapshot, always synced). */
    replace(next: FileState): Promise<void> {
      return queue.exclusive(async () => {
        await closeJournal()
        state = next
        try {
          await writeSnapshot()
          loaded = true
        } catch (err) {
          loaded = false
          throw err
        }
      })
    },
    remove(): Promise<boolean> {
      return queue.exclusive(async () => {
        await closeJournal()
        // Journal first: a kill in between leaves a snapshot that is complete on its own.
        const existed = await removeFiles([paths.journal, paths.snapshot])
        state = emptyState(clientId, new Date().toISOString(), codec.keyIds)
        onDisk = false
        loaded = true
        repair = null
        return existed
      })
    },
    /** Header fields from memory when they are what the files hold (for listing), else null. */
    current(): FileState | null {
      return loaded && onDisk ? state : null
    },
    /**
     * Waits for queued writes and releases the file. `compact`: fold the journal into the snapshot if
     * this process appended to it (never after a read alone, so a failed open leaves the files as found).
     */
    close(options: { compact: boolean }): Promise<void> {
      return queue.exclusive(async () => {
        if (options.compact && appendedSinceSnapshot) await compact()
        await closeJournal()
        loaded = false
      })
    },
  }
}

export type SessionFile = ReturnType<typeof createSessionFile>


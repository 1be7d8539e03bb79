// One session's files and the single writer that owns them. Writes are group-committed: while one
// append+fdatasync is in flight, new batches wait in a queue and all go out in the next single append,
// so there are never two writes in flight and each caller resolves once its own bytes are durable.
// The journal is folded into a fresh snapshot when it grows past the snapshot's size (amortised O(1)
// per write), past maxEntries, and on close. Loads, replaces, removals and flushes run one at a time.
import { randomBytes } from 'node:crypto'
import { open, readFile, unlink, type FileHandle } from 'node:fs/promises'
import type { Logger } from 'pino'
import type { Codec } from '../codec.js'
import { ensureDir, fsyncDir, isNotFound, moveAside, replaceFiles, FILE_MODE } from './fsio.js'
import { sessionPaths } from './paths.js'
import {
  applyBatch,
  emptyState,
  encodeBatch,
  FormatError,
  journalHeaderLine,
  parseJournal,
  parseSnapshot,
  serializeBatch,
  serializeSnapshot,
  type EncodedBatch,
  type EncodedState,
} from './format.js'

export type Log = Pick<Logger, 'warn' | 'info' | 'debug' | 'error'>

export interface CompactionPolicy {
  /** Never compact a journal smaller than this many bytes. */
  minBytes: number
  /** Compact once the journal is larger than the snapshot times this. */
  ratio: number
  /** Compact after this many journal entries, whatever their size (bounds replay at load). */
  maxEntries: number
}

export const DEFAULT_COMPACTION: CompactionPolicy = { minBytes: 256 * 1024, ratio: 1, maxEntries: 5000 }

export interface QuarantineEvent {
  clientId: string
  reason: 'snapshot-unreadable' | 'journal-corrupt'
  /** Original path -> where it was moved. */
  moved: Array<{ from: string; to: string }>
  at: string
}

export interface WriterStats {
  /** Journal appends (one write + one fdatasync each). */
  appends: number
  /** Snapshot rewrites (first write, compaction, replace, close). */
  snapshots: number
  /** fsync/fdatasync calls on files (directory fsyncs not counted). */
  fsyncs: number
  /** Write batches made durable. */
  batches: number
  bytesAppended: number
  /** Highest number of writes ever in flight at once for one session (must stay 1). */
  maxInFlight: number
}

export interface SessionFileContext {
  sessionPath: string
  clientId: string
  codec: Codec
  log?: Log
  compaction: CompactionPolicy
  stats: WriterStats
  /** false: appends skip fdatasync (survive a process kill, not a power cut). Snapshots always sync. */
  durable: boolean
  onQuarantine: (event: QuarantineEvent) => void
}

interface Pending {
  batch: EncodedBatch
  line: string
  resolve: () => void
  reject: (err: unknown) => void
}

type OpenResult = 'ok' | 'absent' | 'quarantined'

export function createSessionFile(ctx: SessionFileContext) {
  const { clientId, codec, log, stats } = ctx
  const paths = sessionPaths(ctx.sessionPath, clientId)
  let state: EncodedState = emptyState(clientId, new Date().toISOString())
  let stale = true // memory may differ from disk: (re)read before the next write
  let onDisk = false
  let journal: FileHandle | null = null
  let journalBytes = 0
  let journalEntries = 0
  let snapshotBytes = 0
  let inFlight = 0
  const queue: Pending[] = []
  let flushScheduled = false
  let tail: Promise<unknown> = Promise.resolve()

  /** Runs fn after everything queued before it; nothing else touches the files meanwhile. */
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = tail.then(fn)
    tail = run.then(() => {}, () => {})
    return run
  }

  async function closeJournal(): Promise<void> {
    const handle = journal
    journal = null
    await handle?.close()
  }

  async function quarantine(reason: QuarantineEvent['reason']): Promise<void> {
    const at = new Date()
    const moved: QuarantineEvent['moved'] = []
    for (const path of [paths.snapshot, paths.journal]) {
      try {
        moved.push({ from: path, to: await moveAside(path, at) })
      } catch (err) {
        if (!isNotFound(err)) throw err
      }
    }
    const event: QuarantineEvent = { clientId, reason, moved, at: at.toISOString() }
    log?.warn({ clientId, reason, moved }, 'session file unreadable: moved aside, session starts empty')
    ctx.onQuarantine(event)
  }

  /** Reads snapshot + journal into memory. Throws (touching nothing) on an encryption mismatch. */
  async function openFiles(): Promise<OpenResult> {
    await closeJournal()
    state = emptyState(clientId, new Date().toISOString())
    onDisk = false
    let text: string
    try {
      text = await readFile(paths.snapshot, 'utf8')
    } catch (err) {
      if (!isNotFound(err)) throw err
      stale = false
      return 'absent'
    }
    let parsed: ReturnType<typeof parseSnapshot>
    try {
      parsed = parseSnapshot(text, clientId)
    } catch (err) {
      if (!(err instanceof FormatError)) throw err
      await quarantine('snapshot-unreadable')
      stale = false
      return 'quarantined'
    }
    codec.verifyKeyCheck(parsed.header.keyCheck, clientId)
    const loaded = parsed.state
    snapshotBytes = Buffer.byteLength(text)
    let buf: Buffer | null = null
    try {
      buf = await readFile(paths.journal)
    } catch (err) {
      if (!isNotFound(err)) throw err
    }
    const journalState = buf ? parseJournal(buf, parsed.header.journalId, clientId, codec.encrypted) : ({ kind: 'stale' } as const)
    if (journalState.kind === 'corrupt') {
      log?.warn({ clientId, line: journalState.line }, 'session journal damaged before its last line')
      await quarantine('journal-corrupt')
      stale = false
      return 'quarantined'
    }
    if (journalState.kind === 'stale') {
      // Missing, or left over from before the last compaction (already in the snapshot): start a new one.
      await replaceFiles([{ path: paths.journal, data: journalHeaderLine(clientId, parsed.header.journalId) }])
      journalBytes = Buffer.byteLength(journalHeaderLine(clientId, parsed.header.journalId))
      journalEntries = 0
    } else {
      for (const batch of journalState.batches) applyBatch(loaded, batch)
      journalBytes = journalState.validBytes
      journalEntries = journalState.batches.length
      if (journalState.tornBytes > 0) {
        log?.warn({ clientId, bytes: journalState.tornBytes }, 'dropping an unacknowledged partial journal entry')
      }
    }
    journal = await open(paths.journal, 'a', FILE_MODE)
    if (journalState.kind === 'ok' && journalState.tornBytes > 0) {
      await journal.truncate(journalBytes)
      await journal.sync()
    }
    state = loaded
    onDisk = true
    stale = false
    return 'ok'
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
    onDisk = true
    journal = await open(paths.journal, 'a', FILE_MODE)
  }

  async function append(data: string, entries: number): Promise<void> {
    if (!journal) throw new Error('journal is not open')
    const buf = Buffer.from(data)
    inFlight++
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight)
    try {
      let offset = 0
      while (offset < buf.length) offset += (await journal.write(buf, offset, buf.length - offset)).bytesWritten
      if (ctx.durable) await journal.datasync()
    } catch (err) {
      // Cut off whatever part made it, so the next append does not follow a torn line.
      await journal.truncate(journalBytes).catch(() => {})
      throw err
    } finally {
      inFlight--
    }
    stats.appends++
    if (ctx.durable) stats.fsyncs++
    stats.bytesAppended += buf.length
    journalBytes += buf.length
    journalEntries += entries
  }

  function shouldCompact(): boolean {
    const { minBytes, ratio, maxEntries } = ctx.compaction
    return journalEntries > 0 && (journalBytes > Math.max(minBytes, snapshotBytes * ratio) || journalEntries >= maxEntries)
  }

  async function flushLoop(): Promise<void> {
    while (queue.length > 0) {
      const group = queue.splice(0)
      try {
        if (stale) await openFiles()
        if (!onDisk) {
          state.createdAt = group[0].batch.at
          for (const p of group) applyBatch(state, p.batch)
          await writeSnapshot()
        } else {
          await append(group.map((p) => p.line).join(''), group.length)
          for (const p of group) applyBatch(state, p.batch)
        }
      } catch (err) {
        stale = true // re-read the files before writing again
        log?.error({ err, clientId, batches: group.length }, 'session file write failed')
        for (const p of group) p.reject(err)
        continue
      }
      stats.batches += group.length
      for (const p of group) p.resolve()
      if (shouldCompact()) {
        try {
          await writeSnapshot()
        } catch (err) {
          stale = true // the journal on disk still holds everything acknowledged
          log?.warn({ err, clientId }, 'journal compaction failed; will retry')
        }
      }
    }
  }

  function scheduleFlush(): void {
    if (flushScheduled) return
    flushScheduled = true
    void exclusive(flushLoop).finally(() => {
      flushScheduled = false
      if (queue.length > 0) scheduleFlush()
    })
  }

  async function applyEncoded(encoded: EncodedBatch): Promise<void> {
    const line = serializeBatch(encoded, codec.encrypted)
    return new Promise<void>((resolve, reject) => {
      queue.push({ batch: encoded, line, resolve, reject })
      scheduleFlush()
    })
  }

  return {
    paths,
    /** The session's encoded state as on disk, or null when none is stored (after quarantine too). */
    load(): Promise<EncodedState | null> {
      return exclusive(async () => ((await openFiles()) === 'ok' ? state : null))
    },
    async apply(batch: Parameters<typeof encodeBatch>[1]): Promise<void> {
      return applyEncoded(encodeBatch(codec, batch))
    },
    /** apply() for a batch already encoded with this session's codec. */
    applyEncoded,
    replace(next: EncodedState): Promise<void> {
      return exclusive(async () => {
        state = next
        try {
          await writeSnapshot()
          stale = false
        } catch (err) {
          stale = true
          throw err
        }
      })
    },
    remove(): Promise<boolean> {
      return exclusive(async () => {
        await closeJournal()
        let existed = false
        // Journal first: a kill in between leaves a snapshot that is complete on its own.
        for (const path of [paths.journal, paths.snapshot]) {
          try {
            await unlink(path)
            existed = true
          } catch (err) {
            if (!isNotFound(err)) throw err
          }
        }
        if (existed) await fsyncDir(ctx.sessionPath)
        state = emptyState(clientId, new Date().toISOString())
        onDisk = false
        stale = false
        return existed
      })
    },
    /** Header fields from memory when they are current (for listing), else null. */
    current(): EncodedState | null {
      return !stale && onDisk ? state : null
    },
    /** Waits for queued writes, folds the journal into the snapshot, releases the file handle. */
    close(compact = true): Promise<void> {
      return exclusive(async () => {
        if (compact && !stale && onDisk && journalEntries > 0) {
          try {
            await writeSnapshot()
          } catch (err) {
            log?.warn({ err, clientId }, 'compaction on close failed; the journal keeps every write')
          }
        }
        await closeJournal()
        stale = true
      })
    },
  }
}

export type SessionFile = ReturnType<typeof createSessionFile>

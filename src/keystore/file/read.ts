// Reading one session's files into memory without writing anything: the snapshot, then the journal
// entries after it. Damage (an unparseable snapshot, a journal broken before its last line, a damaged
// journal header, an empty journal) moves both files aside; what needs repair before the next append
// (a torn last line, a journal left from an interrupted compaction) is only reported.
import { readFile } from 'node:fs/promises'
import type { Logger } from 'pino'
import type { Codec } from '../codec.js'
import { applyBatch, FormatError, parseJournal, parseSnapshot, type FileState } from './format.js'
import { isNotFound, moveAside } from './fsio.js'
import type { SessionPaths } from './paths.js'

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
  /** Journal appends (one write, plus one fdatasync when synced). */
  appends: number
  /** Snapshot rewrites (first write, compaction, replace, close). */
  snapshots: number
  /** fsync/fdatasync calls on files (directory fsyncs not counted). */
  fsyncs: number
  /** Journal entries made durable. */
  batches: number
  bytesAppended: number
  /** Highest number of writes ever in flight at once for one session (must stay 1). */
  maxInFlight: number
}

export interface ReadContext {
  paths: SessionPaths
  clientId: string
  codec: Pick<Codec, 'encrypted' | 'verifyKeyCheck'>
  log?: Log
  /** Where damaged files moved aside are recorded (the folder keeps them for tests and reports). */
  quarantined: QuarantineEvent[]
}

export interface SessionFiles {
  state: FileState
  snapshotBytes: number
  journalBytes: number
  journalEntries: number
  /** Before the next append: write a fresh journal header (stale), or cut the torn tail at truncateTo. */
  repair: { journalId: string; stale: boolean; truncateTo: number | null }
}

async function quarantine(ctx: ReadContext, reason: QuarantineEvent['reason']): Promise<null> {
  const at = new Date()
  const moved: QuarantineEvent['moved'] = []
  for (const path of [ctx.paths.snapshot, ctx.paths.journal]) {
    try {
      moved.push({ from: path, to: await moveAside(path, at) })
    } catch (err) {
      if (!isNotFound(err)) throw err
    }
  }
  ctx.log?.warn({ clientId: ctx.clientId, reason, moved }, 'session file unreadable: moved aside, session starts empty')
  ctx.quarantined.push({ clientId: ctx.clientId, reason, moved, at: at.toISOString() })
  return null
}

/** The session the files hold, or null (none, or quarantined). Throws, touching nothing, on an encryption mismatch. */
export async function readSessionFiles(ctx: ReadContext): Promise<SessionFiles | null> {
  const { paths, clientId, codec, log } = ctx
  let text: string
  try {
    text = await readFile(paths.snapshot, 'utf8')
  } catch (err) {
    if (isNotFound(err)) return null
    throw err
  }
  let parsed: ReturnType<typeof parseSnapshot>
  try {
    parsed = parseSnapshot(text, clientId)
  } catch (err) {
    if (!(err instanceof FormatError)) throw err
    return quarantine(ctx, 'snapshot-unreadable')
  }
  codec.verifyKeyCheck(parsed.header.keyCheck, clientId)
  const buf = await readFile(paths.journal).catch((err: unknown) => {
    if (isNotFound(err)) return null // never appended to (a first snapshot, or a removal cut short)
    throw err
  })
  const { journalId } = parsed.header
  const journal = buf ? parseJournal(buf, journalId, clientId, codec.encrypted) : ({ kind: 'stale' } as const)
  if (journal.kind === 'corrupt') {
    log?.warn(
      { clientId, line: journal.line },
      journal.line <= 1 ? 'session journal header damaged or journal empty' : 'session journal damaged before its last line',
    )
    return quarantine(ctx, 'journal-corrupt')
  }
  const snapshotBytes = Buffer.byteLength(text)
  if (journal.kind === 'stale') {
    return { state: parsed.state, snapshotBytes, journalBytes: 0, journalEntries: 0, repair: { journalId, stale: true, truncateTo: null } }
  }
  for (const entry of journal.batches) applyBatch(parsed.state, entry)
  if (journal.tornBytes > 0) log?.warn({ clientId, bytes: journal.tornBytes }, 'dropping an unacknowledged partial journal entry')
  return {
    state: parsed.state,
    snapshotBytes,
    journalBytes: journal.validBytes,
    journalEntries: journal.batches.length,
    repair: { journalId, stale: false, truncateTo: journal.tornBytes > 0 ? journal.validBytes : null },
  }
}

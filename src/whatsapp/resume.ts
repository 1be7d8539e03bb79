// Resuming stored sessions in the background after the server listens. Every queued session is
// started in order (the default session first); how many open their store and connect at once is
// bounded by the manager's admission gate, so one slow or failing session never holds the others back
// for long. A session counts as done once its first connection attempt had an outcome (Session.settled);
// the progress is readable at any time.
import type { Logger } from 'pino'
import type { Session } from './session.js'

export interface ResumeFailure {
  clientId: string
  /** A stable code: the store error's (CORRUPT_VALUE, WRONG_ENCRYPTION_KEY, ...) or SESSION_LIMIT_REACHED. */
  code: string
  reason: string
}

export interface ResumeProgress {
  /** idle: nothing queued yet; resuming: sessions still starting; done: every one had its first attempt. */
  status: 'idle' | 'resuming' | 'done'
  /** Sessions queued for resume so far (the default session included). */
  total: number
  /** Sessions whose first attempt had an outcome (failures included). */
  done: number
  failed: ResumeFailure[]
  startedAt: string | null
  finishedAt: string | null
}

/** Failures listed in the progress (the count in `done` stays exact beyond it). */
const MAX_LISTED_FAILURES = 100

export interface ResumeQueueOptions {
  logger: Logger
  /** A session failed for good (its stored state is unusable): the manager forgets it. */
  onFailed(session: Session, failure: ResumeFailure): void
}

export function createResumeQueue({ logger, onFailed }: ResumeQueueOptions) {
  const failed: ResumeFailure[] = []
  let total = 0
  let done = 0
  let startedAt: Date | null = null
  let finishedAt: Date | null = null
  let closed = false
  /** The stored sessions are being listed: more may be added, so the resume is not done yet. */
  let listing = false

  function fail(clientId: string, code: string, reason: string, session?: Session): void {
    const failure = { clientId, code, reason }
    if (failed.length < MAX_LISTED_FAILURES) failed.push(failure)
    logger.error({ clientId, code, reason }, 'could not resume a stored session')
    if (session) onFailed(session, failure)
  }

  function finish(): void {
    done++
    settle()
  }

  function settle(): void {
    if (listing || done < total || finishedAt) return
    finishedAt = new Date()
    logger.info({ total, failed: failed.length }, 'stored sessions resumed')
  }

  async function resume(session: Session): Promise<void> {
    try {
      await session.start()
    } catch (err) {
      const code = (err as { code?: unknown }).code
      fail(session.clientId, typeof code === 'string' ? code : 'START_FAILED', err instanceof Error ? err.message : String(err), session)
      return
    }
    const outcome = await session.settled()
    if (outcome.error) fail(session.clientId, outcome.error.code, outcome.error.message, session)
  }

  return {
    /** The stored sessions are being listed: the resume is not done before listed() is called. */
    listing(): void {
      startedAt ??= new Date()
      listing = true
    },
    listed(): void {
      listing = false
      settle()
    },
    /** Starts a session (registered, not started) in the background, after the ones added before. */
    add(session: Session): void {
      if (closed) return
      startedAt ??= new Date()
      finishedAt = null
      total++
      resume(session)
        .catch((err: unknown) => logger.error({ err, clientId: session.clientId }, 'resuming a session failed'))
        .finally(finish)
    },
    /** Counts a session that could not even be started (MAX_SESSIONS reached). */
    refuse(clientId: string, code: string, reason: string): void {
      startedAt ??= new Date()
      total++
      fail(clientId, code, reason)
      finish()
    },
    progress(): ResumeProgress {
      const status = total === 0 && !listing ? 'idle' : listing || done < total ? 'resuming' : 'done'
      return {
        status,
        total,
        done,
        failed: [...failed],
        startedAt: startedAt?.toISOString() ?? null,
        finishedAt: status === 'done' ? (finishedAt?.toISOString() ?? null) : null,
      }
    },
    /** Takes no more sessions (the manager stops the started ones). */
    close(): void {
      closed = true
    },
  }
}

export type ResumeQueue = ReturnType<typeof createResumeQueue>

// Resuming stored sessions in the background after the server listens: a queue worked by a bounded
// number of workers, in the order sessions were queued (the default session first). A worker holds its
// slot until the session's first connection attempt has an outcome (or slotTimeoutMs passes), so a
// restart with hundreds of sessions does not open hundreds of stores and sockets at once, and one slow
// or failing session never holds the others back for long. Progress is readable at any time.
import type { Logger } from 'pino'
import type { Session } from './session.js'

export interface ResumeFailure {
  clientId: string
  /** A stable code: the store error's (CORRUPT_VALUE, WRONG_ENCRYPTION_KEY, ...) or SESSION_LIMIT_REACHED. */
  code: string
  reason: string
}

export interface ResumeProgress {
  /** idle: nothing queued yet; resuming: sessions still waiting or starting; done: every one had its first attempt. */
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
  concurrency: number
  /** The longest a worker waits for one session's first outcome before it takes the next. */
  slotTimeoutMs: number
  logger: Logger
  /** A session failed for good (its stored state is unusable): the manager forgets it. */
  onFailed(session: Session, failure: ResumeFailure): void
}

export function createResumeQueue({ concurrency, slotTimeoutMs, logger, onFailed }: ResumeQueueOptions) {
  const queue: Session[] = []
  const failed: ResumeFailure[] = []
  let total = 0
  let done = 0
  let workers = 0
  let startedAt: Date | null = null
  let finishedAt: Date | null = null
  let closed = false
  let onClose: () => void = () => undefined
  const closing = new Promise<null>((resolve) => {
    onClose = () => resolve(null)
  })
  const running = new Set<Promise<void>>()

  function finishIfDone(): void {
    if (done < total || queue.length > 0 || finishedAt) return
    finishedAt = new Date()
    logger.info({ total, failed: failed.length }, 'stored sessions resumed')
  }

  function fail(clientId: string, code: string, reason: string, session?: Session): void {
    const failure = { clientId, code, reason }
    if (failed.length < MAX_LISTED_FAILURES) failed.push(failure)
    logger.error({ clientId, code, reason }, 'could not resume a stored session')
    if (session) onFailed(session, failure)
  }

  async function resumeOne(session: Session): Promise<void> {
    if (session.state === 'stopped') return
    try {
      await session.start()
    } catch (err) {
      const code = (err as { code?: unknown }).code
      fail(session.clientId, typeof code === 'string' ? code : 'START_FAILED', err instanceof Error ? err.message : String(err), session)
      return
    }
    let timer: NodeJS.Timeout | undefined
    const outcome = await Promise.race([
      session.settled(),
      closing,
      new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), slotTimeoutMs)
      }),
    ])
    clearTimeout(timer)
    if (outcome?.error) fail(session.clientId, outcome.error.code, outcome.error.message, session)
  }

  async function work(): Promise<void> {
    for (let next = queue.shift(); next && !closed; next = queue.shift()) {
      await resumeOne(next).catch((err: unknown) => logger.error({ err, clientId: next?.clientId }, 'resuming a session failed'))
      done++
      finishIfDone()
    }
  }

  function pump(): void {
    while (!closed && workers < concurrency && queue.length > 0) {
      workers++
      const run = work().finally(() => {
        workers--
        running.delete(run)
        pump()
      })
      running.add(run)
    }
  }

  return {
    /** Queues a session (not started) behind the ones already queued. */
    add(session: Session): void {
      if (closed) return
      startedAt ??= new Date()
      finishedAt = null
      total++
      queue.push(session)
      pump()
    },
    /** Counts a session that could not even be queued (MAX_SESSIONS reached). */
    refuse(clientId: string, code: string, reason: string): void {
      startedAt ??= new Date()
      total++
      done++
      fail(clientId, code, reason)
      finishIfDone()
    },
    progress(): ResumeProgress {
      const status = total === 0 ? 'idle' : done < total ? 'resuming' : 'done'
      return {
        status,
        total,
        done,
        failed: [...failed],
        startedAt: startedAt?.toISOString() ?? null,
        finishedAt: status === 'done' ? (finishedAt?.toISOString() ?? null) : null,
      }
    },
    /** Takes no more sessions and waits for the workers (each stops after its current session). */
    async close(): Promise<void> {
      closed = true
      queue.length = 0
      onClose()
      await Promise.allSettled([...running])
    },
  }
}

export type ResumeQueue = ReturnType<typeof createResumeQueue>

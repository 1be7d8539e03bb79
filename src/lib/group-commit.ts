// Group commit: callers submit items concurrently; while one commit is in flight the others queue, and
// everything queued goes out together in the next commit, so there is never more than one commit in
// flight and N concurrent callers cost one round trip (or one append and one fsync). Each caller's
// promise settles with the commit that carried its item.
//
// exclusive(fn) runs fn with nothing committing: loads, full rewrites and catch-ups that must not
// interleave with commits. Exclusive sections run in the order they were asked for, before the next
// commit, so a steady stream of writes cannot starve them.
//
// linger (optional) is asked before each commit; when it returns a promise, the commit waits for it
// before taking the queue, and what is submitted meanwhile goes in the same commit (as Postgres'
// commit_delay: a short wait while other writers are busy trades a little latency for fewer commits).

interface Waiter<T, R> {
  item: T
  resolve: (result: R) => void
  reject: (err: unknown) => void
}

export interface GroupCommitOptions {
  /** Asked before each commit: a promise to wait for before taking the queue, or null to commit at once. */
  linger?: () => Promise<void> | null
}

export function createGroupCommit<T, R = void>(commit: (items: T[]) => Promise<R>, options: GroupCommitOptions = {}) {
  let queue: Waiter<T, R>[] = []
  const exclusives: Array<() => Promise<void>> = []
  // The commit or exclusive section in progress; null when idle.
  let running: Promise<void> | null = null

  async function commitQueued(): Promise<void> {
    const group = queue
    queue = []
    let result: R
    try {
      result = await commit(group.map((w) => w.item))
    } catch (err) {
      for (const w of group) w.reject(err)
      return
    }
    for (const w of group) w.resolve(result)
  }

  async function lingerThenCommit(): Promise<void> {
    const wait = options.linger?.()
    if (wait) await wait
    return commitQueued()
  }

  function pump(): void {
    if (running) return
    const next = exclusives.shift() ?? (queue.length > 0 ? lingerThenCommit : null)
    if (!next) return
    running = next().finally(() => {
      running = null
      pump()
    })
  }

  return {
    /** Settles with the commit that carried this item: its result, or its error. */
    submit(item: T): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject })
        pump()
      })
    },
    /** Nothing is queued or running right now: a caller may do a group's work of one itself. */
    idleNow: (): boolean => running === null && queue.length === 0 && exclusives.length === 0,
    /** Waits until nothing is queued or running. Never rejects. */
    async idle(): Promise<void> {
      while (running) await running
    },
    exclusive<X>(fn: () => Promise<X>): Promise<X> {
      return new Promise<X>((resolve, reject) => {
        exclusives.push(async () => {
          try {
            resolve(await fn())
          } catch (err) {
            reject(err)
          }
        })
        pump()
      })
    },
  }
}

export type GroupCommit<T, R = void> = ReturnType<typeof createGroupCommit<T, R>>

/**
 * The first item of each key, in order: what one statement of a group may carry when a row can be
 * written once per statement (a repeat waits for the next statement, or is answered as a repeat).
 */
export function firstOfEach<T>(items: readonly T[], key: (item: T) => string): T[] {
  const first = new Map<string, T>()
  for (const item of items) if (!first.has(key(item))) first.set(key(item), item)
  return [...first.values()]
}

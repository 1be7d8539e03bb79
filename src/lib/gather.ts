// Gathering: items added within a short window are written together by one call. The window opens
// with the first item and closes after `ms`, or at once on drain(). For writes no request waits on
// (message statuses, kept idempotent answers): one statement per burst instead of one per item.
// Each add() settles with the write that carried its item. take() hands what is gathered to another
// write going out anyway (the items ride along, and the window closes).
import type { Clock } from './clock.js'

interface Waiter<T> {
  item: T
  resolve: () => void
  reject: (err: unknown) => void
}

export interface GatherOptions<T> {
  ms: number
  clock: Clock
  write(items: T[]): Promise<void>
}

export function createGatherer<T>({ ms, clock, write }: GatherOptions<T>) {
  let gathered: Waiter<T>[] = []
  let timer: unknown = null
  const writing = new Set<Promise<void>>()

  function settle(group: Waiter<T>[], failure: { err: unknown } | null): void {
    for (const w of group) {
      if (failure) w.reject(failure.err)
      else w.resolve()
    }
  }

  function takeGathered(): Waiter<T>[] {
    if (timer !== null) clock.clearTimeout(timer)
    timer = null
    const group = gathered
    gathered = []
    return group
  }

  function flush(): void {
    const group = takeGathered()
    if (group.length === 0) return
    const done = write(group.map((w) => w.item)).then(() => settle(group, null), (err: unknown) => settle(group, { err }))
    writing.add(done)
    void done.finally(() => writing.delete(done))
  }

  return {
    add(item: T): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        gathered.push({ item, resolve, reject })
        timer ??= clock.setTimeout(flush, ms)
      })
    },
    /** Takes what is gathered: the caller writes the items, then settles them: null, or { err } when the write failed. */
    take(): { items: T[]; settle(failure: { err: unknown } | null): void } {
      const group = takeGathered()
      return { items: group.map((w) => w.item), settle: (failure) => settle(group, failure) }
    },
    /** Writes what is gathered now and waits for every write under way. Never rejects. */
    async drain(): Promise<void> {
      flush()
      while (writing.size > 0) await Promise.allSettled([...writing])
    },
  }
}

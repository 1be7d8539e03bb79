// Gathering: items added within a short window are written together by one call. The window opens
// with the first item and closes after `ms`, or at once on flush(). For writes no request waits on
// (message statuses, kept idempotent answers): one statement per burst instead of one per item.
// Each add() settles with the write that carried its item.
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

  function flush(): void {
    if (timer !== null) clock.clearTimeout(timer)
    timer = null
    const group = gathered
    gathered = []
    if (group.length === 0) return
    const done = (async () => {
      try {
        await write(group.map((w) => w.item))
        for (const w of group) w.resolve()
      } catch (err) {
        for (const w of group) w.reject(err)
      }
    })()
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
    /** Writes what is gathered now and waits for every write under way. Never rejects. */
    async drain(): Promise<void> {
      flush()
      while (writing.size > 0) await Promise.allSettled([...writing])
    },
  }
}

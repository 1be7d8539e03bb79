// A first-come, first-served gate for at most `limit` holders at once: the sessions that open their
// store and connect at the same time. A waiter whose signal aborts (its session stopped) leaves the
// queue at once with nothing to release.
export function createGate(limit: number) {
  let active = 0
  const waiting: Array<() => void> = []

  function grant(): () => void {
    active++
    let released = false
    return () => {
      if (released) return
      released = true
      active--
      waiting.shift()?.()
    }
  }

  return {
    /** Resolves with the release function once admitted (or a no-op at once if the signal aborts). */
    enter(signal?: AbortSignal): Promise<() => void> {
      if (signal?.aborted) return Promise.resolve(() => undefined)
      if (active < limit) return Promise.resolve(grant())
      return new Promise((resolve) => {
        const admit = () => {
          signal?.removeEventListener('abort', leave)
          resolve(grant())
        }
        const leave = () => {
          const i = waiting.indexOf(admit)
          if (i >= 0) waiting.splice(i, 1)
          resolve(() => undefined)
        }
        waiting.push(admit)
        signal?.addEventListener('abort', leave, { once: true })
      })
    },
    get active(): number {
      return active
    },
    get waiting(): number {
      return waiting.length
    },
  }
}

export type Gate = ReturnType<typeof createGate>

/**
 * Runs `work` holding a place from `admission` (when there is one) until `outcome` resolves too, so
 * the place is kept for as long as the work's effects last (a connection attempt until its outcome).
 */
export async function whileAdmitted(
  admission: ((signal: AbortSignal) => Promise<() => void>) | undefined,
  signal: AbortSignal,
  work: () => Promise<void>,
  outcome: () => Promise<unknown>,
): Promise<void> {
  if (!admission) return work()
  const release = await admission(signal)
  try {
    await work()
    await outcome()
  } finally {
    release()
  }
}

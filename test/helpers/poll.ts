// Waiting for something another process or an event loop turn makes true. Only end-to-end tests
// wait on real time (with generous bounds that fail with a name, never assert speed); unit tests
// wait by turns of the event loop.

/** What a check returns while what it waits for has not happened yet: any falsy value. */
export type Maybe<T> = T | undefined | null | false

/** Polls fn until it returns a truthy value; throws naming `what` after timeoutMs. */
export async function poll<T>(what: string, fn: () => Promise<Maybe<T>> | Maybe<T>, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const value = await fn()
    if (value) return value
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

/** Like poll, for a check that throws while what it asks is not up yet (a server starting, one killed): a throw counts as not yet. */
export function pollThrough<T>(what: string, fn: () => Promise<Maybe<T>>, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  return poll(what, () => fn().catch(() => null), timeoutMs, everyMs)
}

/** Like poll, but answers whether the condition came true instead of throwing. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<boolean> {
  try {
    await poll('condition', condition, timeoutMs, 20)
    return true
  } catch {
    return false
  }
}

/** Lets pending I/O and promise chains run until the condition holds (bounded by loop turns, not time). */
export async function untilSettled(what: string, condition: () => boolean, turns = 20_000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (condition()) return
    await new Promise((resolve) => setImmediate(resolve))
  }
  throw new Error(`never: ${what}`)
}

// Keeps Baileys' key-transaction contexts from taxing every promise of the process.
//
// Why: Baileys 7.0.0-rc14 gives every socket its own AsyncLocalStorage for key transactions
// (Utils/auth-utils.js, addTransactionCapability) and never disables it. On Node 20 every enabled
// AsyncLocalStorage is visited by an async_hooks init hook for every promise and async resource the
// process creates, which copies its store onto the new resource. With N sessions each promise costs N
// property writes, and each reconnect leaves one more storage behind: CPU, garbage and RSS grow with the
// square of the number of sessions (docs/benchmarks/capacity.md has the figures).
//
// What: such a storage is disabled whenever none of its runs is in flight; run() enables it again at
// the next transaction (Node does that on every run). A transaction's store only matters inside its run:
// Baileys commits after run() returns, from the context object it holds, so nothing changes for it.
// A storage is recognised by what Baileys stores in it, its transaction context { cache, mutations,
// dbQueries }: no other AsyncLocalStorage in the process is touched. Idempotent; the package pins
// Baileys to one version and a test runs this against Baileys' own addTransactionCapability.
import { AsyncLocalStorage } from 'node:async_hooks'

const PATCHED = Symbol.for('whatsapp-backend.release-idle-transaction-contexts')
const RUNS = Symbol('transaction runs in flight')

type Run = AsyncLocalStorage<unknown>['run']
type Counted = AsyncLocalStorage<unknown> & { [RUNS]?: number }

/** Baileys' key-transaction context: what its addTransactionCapability passes to run(). */
export function isTransactionContext(store: unknown): boolean {
  return typeof store === 'object' && store !== null && 'cache' in store && 'mutations' in store && 'dbQueries' in store
}

export function releaseIdleTransactionContexts(): void {
  const proto = AsyncLocalStorage.prototype as AsyncLocalStorage<unknown> & { [PATCHED]?: true }
  if (proto[PATCHED]) return
  const run: Run = proto.run
  const patched = function (this: Counted, store: unknown, callback: (...args: unknown[]) => unknown, ...args: unknown[]) {
    if (!isTransactionContext(store)) return run.call(this, store, callback, ...args)
    this[RUNS] = (this[RUNS] ?? 0) + 1
    const done = () => {
      this[RUNS] = (this[RUNS] ?? 1) - 1
      if (this[RUNS] === 0) this.disable()
    }
    let result: unknown
    try {
      result = run.call(this, store, callback, ...args)
    } catch (err) {
      done()
      throw err
    }
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') (result as PromiseLike<unknown>).then(done, done)
    else done()
    return result
  } as Run
  Object.defineProperty(proto, 'run', { value: patched, writable: true, configurable: true })
  Object.defineProperty(proto, PATCHED, { value: true })
}

/** Whether releaseIdleTransactionContexts() is in effect in this process. */
export function isReleasingIdleTransactionContexts(): boolean {
  return (AsyncLocalStorage.prototype as { [PATCHED]?: true })[PATCHED] === true
}

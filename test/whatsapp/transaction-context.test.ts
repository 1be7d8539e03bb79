// The Baileys patch (scripts/patches) disables each socket's key-transaction AsyncLocalStorage whenever
// none of its transactions runs: on Node 20 every enabled storage is visited for every promise the
// process creates, so idle sessions would tax the whole process (docs/benchmarks/capacity.md).
// Transactions behave as before: reads inside see their own writes, the commit comes after.
import t from 'tap'
import { AsyncLocalStorage } from 'node:async_hooks'
import { addTransactionCapability, type SignalDataTypeMap, type SignalKeyStore } from '@whiskeysockets/baileys'
import pino from 'pino'

/** Node 20 keeps an `enabled` flag on each storage: true while it is in the async_hooks list. */
const enabled = (als: AsyncLocalStorage<unknown>) => (als as unknown as { enabled: boolean }).enabled

function memoryKeys(): SignalKeyStore & { data: Map<string, unknown> } {
  const data = new Map<string, unknown>()
  return {
    data,
    async get(type, ids) {
      return Object.fromEntries(ids.flatMap((id) => (data.has(`${type}:${id}`) ? [[id, data.get(`${type}:${id}`)]] : []))) as never
    },
    async set(changes) {
      for (const [type, values] of Object.entries(changes)) {
        for (const [id, value] of Object.entries(values ?? {})) data.set(`${type}:${id}`, value)
      }
    },
  }
}

t.test('Baileys\' transactions: same results, and their storage is disabled once none runs', async (t) => {
  // Watch which storages run() and disable() are called on, without changing what they do.
  const ran = new Set<AsyncLocalStorage<unknown>>()
  const { run, disable } = AsyncLocalStorage.prototype
  AsyncLocalStorage.prototype.run = function (this: AsyncLocalStorage<unknown>, ...args: Parameters<typeof run>) {
    ran.add(this)
    return run.apply(this, args)
  } as typeof run
  const disables: unknown[] = []
  AsyncLocalStorage.prototype.disable = function (this: AsyncLocalStorage<unknown>) {
    disables.push(this)
    return disable.call(this)
  }
  t.teardown(() => {
    AsyncLocalStorage.prototype.run = run
    AsyncLocalStorage.prototype.disable = disable
  })
  const store = memoryKeys()
  const keys = addTransactionCapability(store, pino({ level: 'silent' }), { maxCommitRetries: 1, delayBetweenTriesMs: 1 })
  const session: { [id: string]: SignalDataTypeMap['session'] } = { 'x_1.0': Buffer.from('s1') }

  // Two concurrent transactions on different keys: the storage stays enabled until both ended.
  let release!: () => void
  const held = new Promise<void>((r) => { release = r })
  const first = keys.transaction(async () => {
    await keys.set({ session })
    t.equal(store.data.size, 0, 'inside the transaction the write is held back')
    await held
    return keys.get('session', ['x_1.0'])
  }, 'a')
  const second = keys.transaction(async () => keys.get('session', ['nothing']), 'b')
  t.same(await second, {}, 'a concurrent transaction sees only its own context')
  const [als] = [...ran]
  t.ok(als, 'the transaction ran in an AsyncLocalStorage')
  t.equal(enabled(als!), true, 'still enabled while the first transaction runs')
  release()
  t.same(Object.keys(await first), ['x_1.0'], 'a read inside the transaction sees its own write')
  t.equal(store.data.size, 1, 'committed after the transaction')
  t.equal(enabled(als!), false, 'disabled once no transaction runs')
  t.ok(disables.includes(als), 'by the patch')
  await keys.transaction(async () => keys.get('session', ['x_1.0']), 'a')
  t.equal(enabled(als!), false, 'and again after the next one')
})

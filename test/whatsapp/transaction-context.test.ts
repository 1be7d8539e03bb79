// Baileys' per-socket AsyncLocalStorage is disabled whenever none of its transactions runs, so idle
// sessions cost nothing on every promise of the process; transactions behave as before.
import t from 'tap'
import { AsyncLocalStorage } from 'node:async_hooks'
import { addTransactionCapability, type SignalDataTypeMap, type SignalKeyStore } from '@whiskeysockets/baileys'
import pino from 'pino'
import {
  isReleasingIdleTransactionContexts, isTransactionContext, releaseIdleTransactionContexts,
} from '../../src/whatsapp/transaction-context.js'

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

t.test('a transaction storage is disabled once no run is in flight, and works again at the next', async (t) => {
  releaseIdleTransactionContexts()
  releaseIdleTransactionContexts() // idempotent
  t.ok(isReleasingIdleTransactionContexts())
  const als = new AsyncLocalStorage<unknown>()
  const ctx = { cache: {}, mutations: {}, dbQueries: 0 }
  t.ok(isTransactionContext(ctx))
  let release!: () => void
  const held = new Promise<void>((r) => { release = r })
  const first = als.run(ctx, async () => {
    await held
    return als.getStore()
  })
  const second = als.run({ cache: {}, mutations: {}, dbQueries: 1 }, async () => {
    await Promise.resolve()
    return als.getStore()
  })
  t.match(await second, { dbQueries: 1 }, 'a concurrent run sees its own context')
  t.equal(enabled(als), true, 'still enabled while the first run is in flight')
  release()
  t.equal(await first, ctx, 'the store propagates through awaits inside the run')
  t.equal(enabled(als), false, 'disabled once no run is in flight')
  t.equal(als.getStore(), undefined)
  t.match(await als.run({ cache: {}, mutations: {}, dbQueries: 2 }, async () => als.getStore()), { dbQueries: 2 }, 'run() enables it again')
  t.equal(enabled(als), false)
})

t.test('other AsyncLocalStorages are left alone', async (t) => {
  releaseIdleTransactionContexts()
  const als = new AsyncLocalStorage<{ requestId: number }>()
  t.equal(await als.run({ requestId: 7 }, async () => als.getStore()?.requestId), 7)
  t.equal(enabled(als), true, 'a storage that is not a key transaction stays enabled')
  als.disable()
})

t.test('Baileys\' own transactions: same results, and their storage is released after each', async (t) => {
  releaseIdleTransactionContexts()
  const disables: unknown[] = []
  const disable = AsyncLocalStorage.prototype.disable
  AsyncLocalStorage.prototype.disable = function (this: AsyncLocalStorage<unknown>) {
    disables.push(this)
    return disable.call(this)
  }
  t.teardown(() => { AsyncLocalStorage.prototype.disable = disable })
  const store = memoryKeys()
  const keys = addTransactionCapability(store, pino({ level: 'silent' }), { maxCommitRetries: 1, delayBetweenTriesMs: 1 })
  const session: { [id: string]: SignalDataTypeMap['session'] } = { 'x_1.0': Buffer.from('s1') }
  const read = await keys.transaction(async () => {
    await keys.set({ session })
    t.equal(store.data.size, 0, 'inside the transaction the write is held back')
    return keys.get('session', ['x_1.0'])
  }, 'test')
  t.same(Object.keys(read), ['x_1.0'], 'a read inside the transaction sees its own write')
  t.equal(store.data.size, 1, 'committed after the transaction')
  t.equal(disables.length, 1, 'its storage was disabled once the transaction ended')
  await keys.transaction(async () => keys.get('session', ['x_1.0']), 'test')
  t.equal(disables.length, 2, 'and again after the next one')
})

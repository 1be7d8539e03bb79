// Kept answers written behind the answer (src/messages/idempotency/behind.ts), over the real file
// store, with each answer's write held until the test lets it through.
import t from 'tap'
import { withAnswersBehind } from '../../src/messages/idempotency/behind.js'
import { createFileIdempotencyStore } from '../../src/messages/idempotency/file.js'
import type { Answer, IdempotencyStore } from '../../src/messages/idempotency/types.js'
import { createSealer } from '../../src/messages/payload.js'
import type { Teardown } from '../helpers/teardown.js'
import { tempDir } from '../helpers/temp-dir.js'

/** The file store, whose complete() waits for the test to open its gate (or fails when told to). */
async function gatedStore(t: Teardown) {
  const real = createFileIdempotencyStore({ dir: await tempDir(t), sealer: createSealer() })
  let open!: () => void
  const gate = new Promise<void>((resolve) => (open = resolve))
  let fail = false
  let writes = 0
  const store: IdempotencyStore = {
    ...real,
    claim: (...args) => real.claim(...args),
    release: (scope) => real.release(scope),
    purge: (now) => real.purge(now),
    async complete(scope, answer) {
      await gate
      if (fail) throw new Error('the database is gone')
      writes++
      await real.complete(scope, answer)
    },
  }
  return {
    store,
    open: () => open(),
    failNext: () => (fail = true),
    writes: () => writes,
  }
}

const ANSWER: Answer = { status: 200, body: { messageId: 'M1', status: 'sent' } }
/** The claim of key s1 the tests answer. */
const S1 = { scope: 's1', clientId: 'c', fingerprint: 'f1', messageId: 'M1' }

t.test('complete() returns before the write; a repeat on this instance waits for it and replays', async (t) => {
  const gated = await gatedStore(t)
  const keys = withAnswersBehind(gated.store)
  t.same(await keys.claim('s1', 'c', 'f1', 'M1'), { kind: 'new', messageId: 'M1' })
  await keys.complete(S1, ANSWER)
  t.equal(gated.writes(), 0, 'the answer is not written yet')
  let repeat: unknown = null
  const repeated = keys.claim('s1', 'c', 'f1', 'M2').then((c) => (repeat = c))
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(repeat, null, 'the repeat waits for the write rather than answering 409')
  gated.open()
  await repeated
  t.same(repeat, { kind: 'replay', answer: ANSWER }, 'then gets the first answer')
  t.equal(gated.writes(), 1)
})

t.test('other keys do not wait; drain() waits for every write', async (t) => {
  const gated = await gatedStore(t)
  const keys = withAnswersBehind(gated.store)
  await keys.claim('s1', 'c', 'f1', 'M1')
  await keys.complete(S1, ANSWER)
  t.same(await keys.claim('s2', 'c', 'f2', 'M2'), { kind: 'new', messageId: 'M2' }, 'another key is claimed at once')
  let drained = false
  const draining = keys.drain().then(() => (drained = true))
  await new Promise((resolve) => setImmediate(resolve))
  t.notOk(drained, 'drain waits for the held write')
  gated.open()
  await draining
  t.equal(gated.writes(), 1)
})

t.test('a failed write rejects nothing: the claim stays in flight (a retry takes it over after its lock)', async (t) => {
  const gated = await gatedStore(t)
  const keys = withAnswersBehind(gated.store)
  await keys.claim('s1', 'c', 'f1', 'M1')
  gated.failNext()
  await keys.complete(S1, ANSWER)
  gated.open()
  await keys.drain()
  t.equal(gated.writes(), 0)
  t.same(await keys.claim('s1', 'c', 'f1', 'M2'), { kind: 'in_flight', messageId: 'M1' }, 'the repeat finds the first request still in flight')
})

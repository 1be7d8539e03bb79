// runIdempotent over the real file store (a wall clock the test moves): which answers it asks the store
// to keep, and how a repeat is answered from the message store when the key holds no answer.
import t from 'tap'
import { createFileIdempotencyStore } from '../../src/messages/idempotency/file.js'
import { runIdempotent, type IdempotentRun } from '../../src/messages/idempotency/run.js'
import { IDEMPOTENCY_LOCK_MS, IDEMPOTENCY_TTL_MS, messagePurgeCutoff, type Answer, type IdempotencyStore } from '../../src/messages/idempotency/types.js'
import { createSealer } from '../../src/messages/payload.js'
import { tempDir } from '../app/helpers.js'

const SENT = (id: string): Answer => ({ status: 200, body: { messageId: id, status: 'sent' } })

/** The file store, recording each complete() call; `sentIds` plays the message store (ids WhatsApp took). */
async function setup(t: Parameters<typeof tempDir>[0]) {
  let now = Date.UTC(2026, 0, 1)
  const real = createFileIdempotencyStore({ dir: await tempDir(t), sealer: createSealer(), now: () => now })
  const completed: Array<{ id: string; status: number; recorded: boolean }> = []
  const store: IdempotencyStore = {
    ...real,
    async complete(claim, answer, options) {
      completed.push({ id: claim.messageId, status: answer.status, recorded: options?.recorded ?? false })
      // Left unwritten when recorded, as the Postgres store does for a row it created.
      if (!options?.recorded) await real.complete(claim, answer, options)
    },
  }
  const sentIds = new Set<string>()
  let runs = 0
  const run = (newMessageId: string, work: (id: string) => Promise<Answer> = async (id) => (sentIds.add(id), SENT(id))): ReturnType<typeof runIdempotent> =>
    runIdempotent({
      store, scope: 'k1', clientId: 'c1', fingerprint: 'f1', newMessageId,
      run: (id) => (runs++, work(id)),
      recorded: async (id) => (sentIds.has(id) ? SENT(id) : null),
      isRecorded: (a, id) => a.status === 200 && (a.body as { messageId: string }).messageId === id,
      keepError: () => ({ status: 504, body: { code: 'SEND_NOT_ACKNOWLEDGED' } }),
    } satisfies IdempotentRun)
  return { completed, sentIds, run, runs: () => runs, advance: (ms: number) => (now += ms) }
}

t.test('a plain success is left to the message store; a repeat is answered from it, in flight or after the lock', async (t) => {
  const s = await setup(t)
  t.same(await s.run('M1'), { kind: 'ran', answer: SENT('M1') })
  t.same(s.completed, [{ id: 'M1', status: 200, recorded: true }], 'completed as recorded')
  t.same(await s.run('M2'), { kind: 'replay', answer: SENT('M1') }, 'a repeat in flight: the first answer, rebuilt')
  s.advance(IDEMPOTENCY_LOCK_MS + 1)
  t.same(await s.run('M3'), { kind: 'replay', answer: SENT('M1') }, 'after the lock: a replay, not a second send')
  t.equal(s.runs(), 1, 'sent once')
  t.same(s.completed.at(-1), { id: 'M1', status: 200, recorded: true })
})

t.test('a repeat while the first runs is in flight; a kept error is written and replayed', async (t) => {
  const s = await setup(t)
  let finish!: () => void
  let started!: () => void
  const running = new Promise<void>((resolve) => (started = resolve))
  const first = s.run('M1', () => new Promise((_, reject) => {
    finish = () => reject(new Error('no ack'))
    started()
  }))
  await running
  t.same(await s.run('M2'), { kind: 'in_flight' }, 'nothing in the message store yet: in flight')
  finish()
  await t.rejects(first)
  t.same(s.completed, [{ id: 'M1', status: 504, recorded: false }])
  t.same(await s.run('M3'), { kind: 'replay', answer: { status: 504, body: { code: 'SEND_NOT_ACKNOWLEDGED' } } })
})

t.test('after the lock, a first attempt that sent nothing is sent again under its id', async (t) => {
  const s = await setup(t)
  let started!: () => void
  const running = new Promise<void>((resolve) => (started = resolve))
  void s.run('M1', () => new Promise(() => started())) // the instance dies mid-send: this never settles
  await running
  s.advance(IDEMPOTENCY_LOCK_MS + 1)
  t.same(await s.run('M2'), { kind: 'ran', answer: SENT('M1') }, 'sent under the first id')
  t.equal(s.runs(), 2)
})

t.test('the purge keeps a message longer than the key it answers for', async (t) => {
  const now = Date.UTC(2026, 5, 1)
  t.equal(messagePurgeCutoff(now, 7).getTime(), now - 7 * 86_400_000, 'the retention when it is longer')
  t.equal(messagePurgeCutoff(now, 1).getTime(), now - IDEMPOTENCY_TTL_MS - 10 * 60_000, 'a day: the key\'s 24 h plus ten minutes')
})

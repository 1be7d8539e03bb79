// The outbound queue's worker on a manual clock: oldest first, paced (interval plus jitter between two
// sends of a session), a closed session puts the entry back first in line, stop() ends the waits.
import t from 'tap'
import pino from 'pino'
import { createFileQueueStore } from '../../src/messages/queue/file.js'
import { createQueueWorker, type DeliveryResult, type QueueWorkerOptions } from '../../src/messages/queue/worker.js'
import { createSealer } from '../../src/messages/payload.js'
import type { SendRequest } from '../../src/schemas/send.js'
import { createManualClock } from '../helpers/manual-clock.js'
import { tempDir } from '../helpers/temp-dir.js'
import { untilSettled } from '../helpers/poll.js'

/** A worker for session c1 on a manual clock, sends at least 1 s apart without jitter; `o` sets the rest. */
const startWorker = (o: Pick<QueueWorkerOptions, 'queue' | 'clock' | 'deliver'> & Partial<QueueWorkerOptions>) =>
  createQueueWorker({ openSessions: () => ['c1'], intervalMs: 1000, jitterMs: 0, pollMs: 60_000, random: () => 0, log: pino({ level: 'silent' }), ...o })

t.test('sends in order, paced, and stops cleanly', async (t) => {
  const queue = createFileQueueStore({ dir: await tempDir(t), sealer: createSealer() })
  for (const n of [1, 2, 3]) await queue.enqueue('c1', `Q${n}`, { type: 'text', to: '+15550002222', text: `q${n}` })
  const clock = createManualClock()
  const delivered: string[] = []
  let open = true
  let next: DeliveryResult = { kind: 'sent' }
  const worker = startWorker({
    queue,
    clock,
    openSessions: () => (open ? ['c1'] : []),
    deliver: async (_clientId: string, messageId: string, request: SendRequest) => {
      delivered.push(`${messageId}:${'text' in request ? request.text : ''}`)
      return next
    },
    jitterMs: 100,
    random: () => 0.5,
  })
  worker.kick('c1')
  await untilSettled('the first send', () => delivered.length === 1 && clock.pending().length === 1)
  t.same(delivered, ['Q1:q1'])
  t.same(clock.pending(), [1050], 'the next waits the interval plus its share of the jitter')
  clock.advance(1049)
  await untilSettled('io', () => true)
  t.equal(delivered.length, 1, 'not a millisecond early')

  next = { kind: 'retry' }
  clock.advance(1)
  await untilSettled('the second attempt', () => delivered.length === 2)
  await untilSettled('put back', () => clock.pending().length === 0)
  t.same(delivered, ['Q1:q1', 'Q2:q2'])
  t.equal(await queue.waiting('c1'), 2, 'a closed session puts the entry back')

  next = { kind: 'failed', reason: 'MEDIA_FETCH_FAILED: 404' }
  worker.kick('c1')
  await untilSettled('Q2 again', () => delivered.length === 3)
  t.equal(delivered[2], 'Q2:q2', 'first in line again')
  await untilSettled('failed recorded', () => clock.pending().length === 1)
  t.match(await queue.get('c1', 'Q2'), { state: 'failed', error: 'MEDIA_FETCH_FAILED: 404' })

  open = false
  clock.advance(1050)
  await untilSettled('the loop ends', () => clock.pending().length === 0)
  t.equal(delivered.length, 3, 'nothing is sent while the session is not open')
  open = true
  next = { kind: 'sent' }
  worker.kick('c1')
  await untilSettled('Q3', () => delivered.length === 4)
  t.equal(delivered[3], 'Q3:q3')
  await untilSettled('paced', () => clock.pending().length === 1)
  await worker.stop()
  t.same(clock.pending(), [], 'stop() cancels the wait')
  t.equal(await queue.waiting('c1'), 0)
})

t.test('a failure before anything left is tried again after a backoff, a bounded number of times, the entries behind it waiting', async (t) => {
  const queue = createFileQueueStore({ dir: await tempDir(t), sealer: createSealer() })
  for (const n of [1, 2]) await queue.enqueue('c1', `Q${n}`, { type: 'text', to: '+15550002222', text: `q${n}` })
  const clock = createManualClock()
  const delivered: string[] = []
  const results: DeliveryResult[] = []
  const worker = startWorker({
    queue,
    clock,
    deliver: async (_clientId: string, messageId: string) => {
      delivered.push(messageId)
      return results.shift() ?? { kind: 'sent' }
    },
    attempts: 3,
    backoff: { baseMs: 2000, maxMs: 30_000 },
  })
  t.teardown(() => worker.stop())

  // Q1: refused twice, then sent on the third attempt.
  results.push({ kind: 'again', reason: 'MEDIA_UPLOAD_FAILED: refused' }, { kind: 'again', reason: 'MEDIA_UPLOAD_FAILED: refused' })
  worker.kick('c1')
  await untilSettled('the first attempt', () => delivered.length === 1 && clock.pending().length === 1)
  t.same(clock.pending(), [1000], 'the first pause: half the base delay at the least jitter')
  clock.advance(1000)
  await untilSettled('the second attempt', () => delivered.length === 2 && clock.pending().length === 1)
  t.same(clock.pending(), [2000], 'the pause doubles')
  t.same(delivered, ['Q1', 'Q1'], 'Q2 waits behind it')
  clock.advance(2000)
  await untilSettled('sent, then the interval', () => delivered.length === 3 && clock.pending().length === 1)
  t.same(clock.pending(), [1000], 'sent: the usual interval')
  t.same(await queue.get('c1', 'Q1'), null, 'Q1 is done')

  // Q2: refused on every attempt: failed after three, with the reason.
  results.push(...Array.from({ length: 3 }, () => ({ kind: 'again', reason: 'MEDIA_UPLOAD_FAILED: refused' }) as const))
  clock.advance(1000)
  await untilSettled('Q2 first attempt', () => delivered.length === 4 && clock.pending().length === 1)
  clock.advance(1000)
  await untilSettled('Q2 second attempt', () => delivered.length === 5 && clock.pending().length === 1)
  clock.advance(2000)
  await untilSettled('Q2 third attempt, then failed', () => delivered.length === 6 && clock.pending().length === 1)
  t.same(delivered.slice(3), ['Q2', 'Q2', 'Q2'])
  t.match(await queue.get('c1', 'Q2'), { state: 'failed', error: 'MEDIA_UPLOAD_FAILED: refused (3 attempts)' })
})

t.test('stopping during a backoff puts the entry back, first in line', async (t) => {
  const queue = createFileQueueStore({ dir: await tempDir(t), sealer: createSealer() })
  await queue.enqueue('c1', 'Q1', { type: 'text', to: '+15550002222', text: 'q1' })
  const clock = createManualClock()
  let calls = 0
  const worker = startWorker({ queue, clock, deliver: async () => (calls++, { kind: 'again', reason: 'MEDIA_FETCH_FAILED: timeout' }) })
  worker.kick('c1')
  await untilSettled('the first attempt and its pause', () => calls === 1 && clock.pending().length === 1)
  await worker.stop()
  t.equal(calls, 1, 'no attempt after stop()')
  t.same(clock.pending(), [])
  t.equal(await queue.waiting('c1'), 1, 'the entry waits again')
  t.match(await queue.get('c1', 'Q1'), { state: 'queued' })
})

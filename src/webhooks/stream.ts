// One delivery stream: the events of one session to one endpoint, in seq order, one request in
// flight, the next event only once the previous one is settled (delivered or dead-lettered). Events
// the outbox pushes in-process are delivered from memory; the outbox is read when the stream is
// behind (a restart, another instance's appends, a poll). Dead letters queued for redelivery go after
// the events that were pending.
import type { EventOutbox, StoredEvent } from '../events/types.js'
import type { CursorWriter } from './cursor-writer.js'
import { deliverEvent, type DeliverDeps, type Failing } from './deliver.js'
import { matchesFilter } from './filter.js'
import type { DeadLetter, Endpoint, EndpointKind, WebhookStore } from './types.js'

export interface StreamDeps extends DeliverDeps {
  outbox: EventOutbox
  store: WebhookStore
  cursors: CursorWriter
  batchSize: number
}

export interface StreamOptions {
  clientId: string
  kind: EndpointKind
  endpoint: () => Endpoint | null
  isLocal: () => boolean
}

export function createStream(deps: StreamDeps, { clientId, kind, endpoint, isLocal }: StreamOptions) {
  const { clock, log } = deps
  const stopper = new AbortController()
  let cursor: number | null = null
  let failing: Failing | null = null
  let known = 0
  let buffer: StoredEvent[] = []
  let mustRead = true
  // The next page of a backlog, read while the current one is being delivered.
  let prefetch: { from: number; page: Promise<StoredEvent[]> } | null = null
  let checkQueued = true
  let running: Promise<void> | null = null
  let again = false
  let sleeping: { timer: unknown; resolve: (done: boolean) => void } | null = null

  const active = () => !stopper.signal.aborted && isLocal()

  function sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (stopper.signal.aborted) return resolve(false)
      const timer = clock.setTimeout(() => {
        sleeping = null
        resolve(!stopper.signal.aborted)
      }, ms)
      sleeping = { timer, resolve }
    })
  }

  const control = {
    endpoint,
    active,
    signal: stopper.signal,
    sleep,
    onRetry: async (f: Failing) => {
      failing = f
      await deps.store.recordFailure(kind, clientId, f)
    },
  }

  function advance(seq: number): void {
    cursor = seq
    if (failing && failing.seq <= seq) failing = null
    deps.cursors.mark(kind, clientId, seq)
  }

  async function next(): Promise<StoredEvent[]> {
    const from = cursor as number
    if (buffer.length > 0 && buffer[0].seq <= from) buffer = buffer.filter((e) => e.seq > from)
    if (buffer.length > 0 && buffer[0].seq === from + 1) {
      let n = 1
      while (n < buffer.length && buffer[n].seq === buffer[n - 1].seq + 1) n++
      return buffer.splice(0, n)
    }
    if (!mustRead && known <= from) return []
    mustRead = false
    const ahead = prefetch
    prefetch = null
    const events = ahead?.from === from ? await ahead.page : await deps.outbox.after(clientId, from, deps.batchSize)
    if (events.length > 0) known = Math.max(known, events[events.length - 1].seq)
    if (events.length === deps.batchSize) {
      mustRead = true
      const last = events[events.length - 1].seq
      const page = deps.outbox.after(clientId, last, deps.batchSize)
      // A failed read-ahead is read again when its turn comes.
      page.catch(() => undefined)
      prefetch = { from: last, page: page.catch(() => deps.outbox.after(clientId, last, deps.batchSize)) }
    }
    return events
  }

  async function redeliverQueued(): Promise<void> {
    checkQueued = false
    const letters = (await deps.store.deadLetters(clientId, 'queued')).filter((l) => l.endpoint === kind)
    for (const letter of letters) {
      if (!active()) return
      await redeliver(letter)
    }
  }

  async function redeliver(letter: DeadLetter): Promise<void> {
    const [event] = await deps.outbox.after(clientId, letter.seq - 1, 1)
    if (!event || event.seq !== letter.seq) {
      const at = new Date(deps.wallNow())
      await deps.store.settleRequeued(letter, { delivered: false, attempts: letter.attempts, error: 'event no longer stored (retention)', status: null, at })
      return
    }
    const settled = await deliverEvent(deps, event, null, { ...control, onRetry: async () => undefined })
    if (settled.kind === 'stopped') return
    if (settled.kind === 'delivered') return deps.store.settleRequeued(letter, { delivered: true })
    deps.metrics.deadLetter(clientId, kind)
    const f = settled.failing
    await deps.store.settleRequeued(letter, { delivered: false, attempts: letter.attempts + f.attempts, error: f.error, status: f.status, at: new Date(deps.wallNow()) })
  }

  async function loop(): Promise<void> {
    if (cursor === null) {
      const stored = await deps.store.cursor(kind, clientId)
      cursor = stored?.deliveredSeq ?? 0
      failing = stored?.failing ?? null
    }
    while (active()) {
      const ep = endpoint()
      if (!ep) return
      const events = await next()
      if (events.length === 0) {
        if (checkQueued) await redeliverQueued()
        return
      }
      for (const event of events) {
        if (!matchesFilter(ep.events, event.type)) {
          advance(event.seq)
          continue
        }
        const settled = await deliverEvent(deps, event, failing, control)
        if (settled.kind === 'stopped') return
        if (settled.kind === 'dead') {
          const f = settled.failing
          await deps.store.deadLetter({ endpoint: kind, clientId, seq: event.seq, eventId: event.id, type: event.type, attempts: f.attempts, lastError: f.error, lastStatus: f.status, failedAt: new Date(deps.wallNow()) })
          deps.metrics.deadLetter(clientId, kind)
        }
        advance(event.seq)
      }
    }
  }

  function wake(): void {
    if (stopper.signal.aborted) return
    if (running) {
      again = true
      return
    }
    again = false
    running = loop()
      .catch((err: unknown) => {
        // Storage or outbox trouble: what was not settled is tried again at the next wake or poll.
        mustRead = true
        log.warn({ err, clientId, endpoint: kind }, 'webhook delivery paused; it resumes at the next poll')
      })
      .finally(() => {
        running = null
        if (again) wake()
      })
  }

  return {
    clientId,
    kind,
    /** Events the outbox just stored for this session (seq order). */
    push(events: StoredEvent[]): void {
      if (events.length === 0) return
      known = Math.max(known, events[events.length - 1].seq)
      if (buffer.length + events.length > deps.batchSize * 4) {
        buffer = []
        mustRead = true
      } else buffer.push(...events)
      wake()
    },
    /**
     * Runs now; with read, reads the outbox even if nothing was pushed; with storedSeq (the session's
     * last seq, read for many streams at once), reads it only if that is beyond what this stream knows;
     * with queued, the redelivery queue.
     */
    poll(queued: boolean, read = true, storedSeq?: number): void {
      if (storedSeq !== undefined) known = Math.max(known, storedSeq)
      else if (read) mustRead = true
      if (queued) checkQueued = true
      wake()
    },
    wake,
    depth: () => (cursor === null ? 0 : Math.max(0, known - cursor)),
    /** Stops after the request in flight (aborted) and waits for the loop to end. */
    async stop(): Promise<void> {
      stopper.abort()
      if (sleeping) {
        clock.clearTimeout(sleeping.timer)
        sleeping.resolve(false)
        sleeping = null
      }
      await running
    },
  }
}

export type Stream = ReturnType<typeof createStream>

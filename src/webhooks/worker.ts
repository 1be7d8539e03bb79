// The delivery worker: one stream per (endpoint, session) for the sessions this instance holds (the
// lease; all of them in file mode). Woken by the outbox's in-process subscription, and by a poll that
// finds what another path stored, picks up webhooks set on another instance, starts streams for
// sessions this instance took over (they continue from the shared cursor) and stops the others.
import { groupBy } from '../lib/group-by.js'
import type { EventOutbox, StoredEvent } from '../events/types.js'
import { createCursorWriter } from './cursor-writer.js'
import type { DeliverDeps } from './deliver.js'
import { createStream, type Stream } from './stream.js'
import type { Endpoint, EndpointKind, SessionWebhook, WebhookStore } from './types.js'

export interface WorkerOptions extends DeliverDeps {
  outbox: EventOutbox
  store: WebhookStore
  /** WEBHOOK_URL, for every session; null when unset. */
  global: Endpoint | null
  /** Sessions that run here (the manager's list). */
  sessions: () => string[]
  /** Whether this instance delivers the session's events now (it holds its lease). */
  isLocal: (clientId: string) => boolean
  pollMs: number
  flushMs: number
  batchSize?: number
}

/** The outbox is read by the poll every this many polls (the streams read it at start). */
const READ_EVERY = 6

export function sessionEndpoint(hook: SessionWebhook): Endpoint {
  return { kind: 'session', url: new URL(hook.url), secrets: [hook.secret], events: hook.events, headers: hook.headers }
}

export function createWebhookWorker(options: WorkerOptions) {
  const { clock, log } = options
  const cursors = createCursorWriter({ store: options.store, clock, flushMs: options.flushMs, log })
  const deps = { ...options, cursors, batchSize: options.batchSize ?? 200 }
  const streams = new Map<string, Stream>()
  const hooks = new Map<string, { endpoint: Endpoint; updatedAt: number }>()
  let unsubscribe: (() => void) | null = null
  let pollTimer: unknown = null
  let polling: Promise<void> | null = null
  let stopped = false
  let polls = 0

  const key = (kind: EndpointKind, clientId: string) => `${kind}\u0000${clientId}`
  const endpointOf = (kind: EndpointKind, clientId: string) => (kind === 'global' ? options.global : (hooks.get(clientId)?.endpoint ?? null))

  function ensure(kind: EndpointKind, clientId: string): Stream | null {
    if (stopped || !endpointOf(kind, clientId)) return null
    let stream = streams.get(key(kind, clientId))
    if (!stream) {
      stream = createStream(deps, { clientId, kind, endpoint: () => endpointOf(kind, clientId), isLocal: () => options.isLocal(clientId) })
      streams.set(key(kind, clientId), stream)
    }
    return stream
  }

  function drop(stream: Stream): Promise<void> {
    streams.delete(key(stream.kind, stream.clientId))
    options.metrics.forget(stream.clientId, stream.kind)
    return stream.stop()
  }

  function onAppended(events: StoredEvent[]): void {
    for (const [clientId, list] of groupBy(events, (e) => e.clientId)) {
      if (!options.isLocal(clientId)) continue
      list.sort((a, b) => a.seq - b.seq)
      for (const kind of ['global', 'session'] as const) ensure(kind, clientId)?.push(list)
    }
  }

  function setHook(clientId: string, hook: SessionWebhook | null): void {
    if (!hook) {
      hooks.delete(clientId)
      const stream = streams.get(key('session', clientId))
      if (stream) void drop(stream)
      return
    }
    const prev = hooks.get(clientId)
    if (prev?.updatedAt === hook.updatedAt.getTime()) return
    hooks.set(clientId, { endpoint: sessionEndpoint(hook), updatedAt: hook.updatedAt.getTime() })
    // A new webhook starts from its own stored cursor: a fresh stream reads it.
    const stream = streams.get(key('session', clientId))
    if (stream && prev?.endpoint.url.href !== hook.url) void drop(stream)
  }

  async function poll(): Promise<void> {
    const local = options.sessions().filter((id) => options.isLocal(id))
    const localSet = new Set(local)
    const [found, queued] = await Promise.all([options.store.webhooks(local), options.store.queuedFor(local)])
    for (const id of local) setHook(id, found.get(id) ?? null)
    for (const id of [...hooks.keys()]) if (!localSet.has(id)) hooks.delete(id)
    await Promise.all([...streams.values()].filter((s) => !localSet.has(s.clientId) || !endpointOf(s.kind, s.clientId)).map(drop))
    const withQueued = new Set(queued.map((q) => key(q.endpoint, q.clientId)))
    // A new stream reads the outbox at once (a takeover, a restart); afterwards what this process
    // appends is pushed, so the periodic read is a safety net and runs every READ_EVERY polls only.
    const read = polls++ % READ_EVERY === 0
    // One statement for every session's last seq, instead of one outbox read per stream.
    const stored = read && options.outbox.lastSeqs ? await options.outbox.lastSeqs(local) : null
    for (const id of local) {
      for (const kind of ['global', 'session'] as const) ensure(kind, id)?.poll(withQueued.has(key(kind, id)), read, stored ? (stored.get(id) ?? 0) : undefined)
    }
  }

  function schedulePoll(): void {
    if (stopped) return
    pollTimer = clock.setTimeout(() => {
      pollTimer = null
      pollNow()
    }, options.pollMs)
  }

  function pollNow(): void {
    if (stopped || polling) return
    polling = poll()
      .catch((err: unknown) => log.warn({ err }, 'webhook poll failed; retried at the next one'))
      .finally(() => {
        polling = null
        if (pollTimer === null) schedulePoll()
      })
  }

  return {
    start(): void {
      unsubscribe = options.outbox.subscribe(onAppended)
      pollNow()
    },
    /** Runs a poll now (after a PUT/DELETE of a webhook or a redelivery request) and waits for it. */
    async refresh(): Promise<void> {
      while (polling) await polling
      pollNow()
      await polling
    },
    /** The session's webhook was set or removed (the store already has it). */
    hookChanged(clientId: string, hook: SessionWebhook | null): void {
      setHook(clientId, hook)
      if (hook && options.isLocal(clientId)) ensure('session', clientId)?.poll(false)
    },
    /** Dead letters of the session were queued for redelivery. */
    requeued(clientId: string): void {
      if (!options.isLocal(clientId)) return
      for (const kind of ['global', 'session'] as const) streams.get(key(kind, clientId))?.poll(true)
    },
    depths: function* () {
      for (const s of streams.values()) yield { clientId: s.clientId, endpoint: s.kind, depth: s.depth() }
    },
    cursorWrites: cursors.writes,
    async stop(): Promise<void> {
      stopped = true
      unsubscribe?.()
      if (pollTimer !== null) clock.clearTimeout(pollTimer)
      while (polling) await polling
      await Promise.all([...streams.values()].map((s) => s.stop()))
      streams.clear()
      await cursors.stop()
    },
  }
}

export type WebhookWorker = ReturnType<typeof createWebhookWorker>

// Webhooks and their delivery state in one JSON file (SESSION_PATH/.webhooks/state.json) for file
// mode: one instance, so an in-memory copy is the truth and every change rewrites the file atomically
// (durable before the call resolves). Secrets are sealed with SESSION_ENCRYPTION_KEY when set.
import { join } from 'node:path'
import { readFile } from 'node:fs/promises'
import { ensureDir, isNotFound, writeFileAtomic } from '../../messages/files.js'
import type { Sealer } from '../../messages/payload.js'
import type { Cursor, DeadLetter, EndpointKind, SessionWebhook, WebhookStore } from '../types.js'

interface StoredHook { url: string; secret: string; events: string[] | null; headers: Record<string, string>; createdAt: string; updatedAt: string }
interface StoredCursor { deliveredSeq: number; failing: { seq: number; since: string; attempts: number; error: string; status: number | null } | null }
type StoredLetter = Omit<DeadLetter, 'failedAt'> & { failedAt: string }
interface State { hooks: Record<string, StoredHook>; cursors: Record<string, StoredCursor>; letters: StoredLetter[] }

const key = (endpoint: EndpointKind, clientId: string) => `${endpoint}:${clientId}`

export function createFileWebhookStore({ dir, sealer }: { dir: string; sealer: Sealer }): WebhookStore {
  const path = join(dir, 'state.json')
  let state: State | null = null
  let chain: Promise<unknown> = Promise.resolve()

  async function load(): Promise<State> {
    if (state) return state
    try {
      state = JSON.parse(await readFile(path, 'utf8')) as State
    } catch (err) {
      if (!isNotFound(err)) throw err
      state = { hooks: {}, cursors: {}, letters: [] }
    }
    return state
  }

  /** Runs a change on the state and writes it; changes run one at a time. */
  function change<T>(fn: (s: State) => T): Promise<T> {
    const run = chain.then(async () => {
      const s = await load()
      const result = fn(s)
      await ensureDir(dir)
      await writeFileAtomic(path, JSON.stringify(s))
      return result
    })
    chain = run.catch(() => undefined)
    return run
  }

  const read = async <T>(fn: (s: State) => T): Promise<T> => {
    await chain
    return fn(await load())
  }

  const hook = (h: StoredHook): SessionWebhook => ({
    url: h.url, secret: sealer.open(h.secret), events: h.events, headers: h.headers, createdAt: new Date(h.createdAt), updatedAt: new Date(h.updatedAt),
  })
  const letter = (l: StoredLetter): DeadLetter => ({ ...l, failedAt: new Date(l.failedAt) })
  const cursorOf = (s: State, endpoint: EndpointKind, clientId: string): StoredCursor =>
    (s.cursors[key(endpoint, clientId)] ??= { deliveredSeq: 0, failing: null })

  return {
    getWebhook: (clientId) => read((s) => (s.hooks[clientId] ? hook(s.hooks[clientId]) : null)),
    webhooks: (clientIds) => read((s) => new Map(clientIds.filter((id) => s.hooks[id]).map((id) => [id, hook(s.hooks[id])]))),
    putWebhook: (clientId, h, startSeq) =>
      change((s) => {
        const now = new Date().toISOString()
        s.hooks[clientId] = { url: h.url, secret: sealer.seal(h.secret), events: h.events, headers: h.headers, createdAt: s.hooks[clientId]?.createdAt ?? now, updatedAt: now }
        s.cursors[key('session', clientId)] = { deliveredSeq: startSeq, failing: null }
      }),
    deleteWebhook: (clientId) =>
      change((s) => {
        const had = Boolean(s.hooks[clientId])
        delete s.hooks[clientId]
        delete s.cursors[key('session', clientId)]
        return had
      }),
    cursor: (endpoint, clientId) =>
      read((s): Cursor | null => {
        const c = s.cursors[key(endpoint, clientId)]
        if (!c) return null
        return { deliveredSeq: c.deliveredSeq, failing: c.failing ? { ...c.failing, since: new Date(c.failing.since) } : null }
      }),
    advance: (writes) =>
      change((s) => {
        for (const w of writes) {
          const c = cursorOf(s, w.endpoint, w.clientId)
          c.deliveredSeq = Math.max(c.deliveredSeq, w.seq)
          if (c.failing && c.failing.seq <= c.deliveredSeq) c.failing = null
        }
      }),
    recordFailure: (endpoint, clientId, f) =>
      change((s) => {
        cursorOf(s, endpoint, clientId).failing = { ...f, since: f.since.toISOString() }
      }),
    deadLetter: (l) =>
      change((s) => {
        s.letters = s.letters.filter((x) => !(x.clientId === l.clientId && x.endpoint === l.endpoint && x.seq === l.seq))
        s.letters.push({ ...l, state: 'failed', failedAt: l.failedAt.toISOString() })
        const c = cursorOf(s, l.endpoint, l.clientId)
        c.deliveredSeq = Math.max(c.deliveredSeq, l.seq)
        c.failing = null
      }),
    deadLetters: (clientId, st) =>
      read((s) => s.letters.filter((l) => l.clientId === clientId && (!st || l.state === st)).map(letter).sort((a, b) => a.seq - b.seq)),
    queuedFor: (clientIds) =>
      read((s) => {
        const ids = new Set(clientIds)
        const found = new Map(s.letters.filter((l) => l.state === 'queued' && ids.has(l.clientId)).map((l) => [key(l.endpoint, l.clientId), { endpoint: l.endpoint, clientId: l.clientId }]))
        return [...found.values()]
      }),
    requeue: (clientId, eventIds) =>
      change((s) => {
        const ids = eventIds ? new Set(eventIds) : null
        const hit = s.letters.filter((l) => l.clientId === clientId && l.state === 'failed' && (!ids || ids.has(l.eventId)))
        for (const l of hit) l.state = 'queued'
        return hit.map(letter).sort((a, b) => a.seq - b.seq)
      }),
    settleRequeued: (l, outcome) =>
      change((s) => {
        const i = s.letters.findIndex((x) => x.clientId === l.clientId && x.endpoint === l.endpoint && x.seq === l.seq)
        if (i < 0) return
        if (outcome.delivered) s.letters.splice(i, 1)
        else Object.assign(s.letters[i], { state: 'failed', attempts: outcome.attempts, lastError: outcome.error.slice(0, 200), lastStatus: outcome.status, failedAt: outcome.at.toISOString() })
      }),
    purge: (before) =>
      change((s) => {
        const n = s.letters.length
        s.letters = s.letters.filter((l) => new Date(l.failedAt) >= before)
        return n - s.letters.length
      }),
    close: async () => {
      await chain
    },
  }
}

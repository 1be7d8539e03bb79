// The webhooks' contracts: where events go (endpoints), and the durable delivery state (per endpoint
// and session: the last delivered seq, the event being retried, dead letters), kept in Postgres or
// in a file under SESSION_PATH by a WebhookStore.
import type { EventFilter } from './filter.js'

/** 'global' is WEBHOOK_URL (every session); 'session' is the one set through the API for a session. */
export type EndpointKind = 'global' | 'session'

export interface Endpoint {
  kind: EndpointKind
  url: URL
  /** The current secret first; a second one during a rotation. */
  secrets: string[]
  events: EventFilter
  headers: Record<string, string>
}

/** A session's webhook as stored (the secret in clear here; sealed at rest). */
export interface SessionWebhook {
  url: string
  secret: string
  events: string[] | null
  headers: Record<string, string>
  createdAt: Date
  updatedAt: Date
}

export interface Cursor {
  /** Every event up to this seq was delivered, dead-lettered or filtered out. */
  deliveredSeq: number
  /** The event being retried, when one is: since when, how many attempts so far. */
  failing: { seq: number; since: Date; attempts: number; error: string; status: number | null } | null
}

export type DeadLetterState = 'failed' | 'queued'

export interface DeadLetter {
  endpoint: EndpointKind
  clientId: string
  seq: number
  eventId: string
  type: string
  attempts: number
  lastError: string
  lastStatus: number | null
  state: DeadLetterState
  failedAt: Date
}

export interface CursorWrite {
  endpoint: EndpointKind
  clientId: string
  seq: number
}

export interface WebhookStore {
  getWebhook(clientId: string): Promise<SessionWebhook | null>
  /** Webhooks of these sessions (one round trip). */
  webhooks(clientIds: readonly string[]): Promise<Map<string, SessionWebhook>>
  /** Sets the session's webhook; its cursor starts at startSeq (events stored before it are not sent). */
  putWebhook(clientId: string, hook: Omit<SessionWebhook, 'createdAt' | 'updatedAt'>, startSeq: number): Promise<void>
  deleteWebhook(clientId: string): Promise<boolean>

  cursor(endpoint: EndpointKind, clientId: string): Promise<Cursor | null>
  /** Moves cursors forward (never back), clearing their failing state; one round trip for all. */
  advance(writes: readonly CursorWrite[]): Promise<void>
  /** Records a failed attempt of the event at seq (durable, so retries resume after a restart). */
  recordFailure(endpoint: EndpointKind, clientId: string, failing: NonNullable<Cursor['failing']>): Promise<void>

  /** Stores a dead letter (state failed) and moves the cursor past it, atomically. */
  deadLetter(letter: Omit<DeadLetter, 'state'>): Promise<void>
  deadLetters(clientId: string, state?: DeadLetterState): Promise<DeadLetter[]>
  /** Which of these sessions' streams have dead letters queued for redelivery (one round trip). */
  queuedFor(clientIds: readonly string[]): Promise<Array<{ endpoint: EndpointKind; clientId: string }>>
  /** Marks failed dead letters as queued for redelivery (all of the session's, or these event ids). */
  requeue(clientId: string, eventIds: readonly string[] | null): Promise<DeadLetter[]>
  /** A queued dead letter was delivered (removed), or failed again (back to failed). */
  settleRequeued(letter: DeadLetter, outcome: { delivered: true } | { delivered: false; attempts: number; error: string; status: number | null; at: Date }): Promise<void>
  /** Removes dead letters that failed before this time (their events are past the outbox's retention). */
  purge(before: Date): Promise<number>
  close(): Promise<void>
}

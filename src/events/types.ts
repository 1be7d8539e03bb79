// The contract between what produces events (the outbox, fed by the session observers) and what
// delivers them (webhooks, the pull API, the live stream). Producers append; consumers read in
// per-session sequence order and are woken when something new is appended.

export const EVENT_TYPES = ['message.received', 'message.status', 'session.status', 'session.qr'] as const
export type EventType = (typeof EVENT_TYPES)[number]

/** An event before it is stored: the outbox gives it its sequence number, and its id unless it has one. */
export interface NewEvent {
  /**
   * Only for a caller that must know the id before the outbox stores the event (the spool in front of
   * the Postgres outbox, store/spooled.ts): the outbox keeps it. Appending the same id twice stores it
   * once (without a dedupeKey, the id serves as one). Producers leave it out.
   */
  id?: string
  type: EventType
  /** ISO 8601 time the event happened (for a message: when it was sent). */
  timestamp: string
  /** The event's body as the consumer sees it under `data`; JSON only. */
  data: Record<string, unknown>
  /**
   * A key unique to what happened (e.g. `message.received:<chat>:<message id>`): appending the same
   * key twice for a session stores it once, so a message WhatsApp offers again is not a new event.
   */
  dedupeKey?: string
}

/** An event as stored and delivered: `id` and `seq` never change on retry or replay. */
export interface StoredEvent {
  /** Stable id (`evt_` + 26 chars), the Standard Webhooks `webhook-id`. */
  id: string
  type: EventType
  clientId: string
  /** Per session, starting at 1, no gaps: consumers order by it and detect what they missed. */
  seq: number
  timestamp: string
  data: Record<string, unknown>
}

export interface EventOutbox {
  /**
   * Stores the events for one session, in order, and resolves once they are durable (committed in
   * Postgres, or fsynced in the local file). Events whose dedupeKey is already stored are skipped.
   * Resolves with the events stored and numbered now; the spool (store/spooled.ts) may keep them on
   * local disk for later and resolve with none: they are published to subscribers once numbered.
   */
  append(clientId: string, events: NewEvent[]): Promise<StoredEvent[]>
  /** Events of one session with seq > afterSeq, oldest first, at most `limit`. */
  after(clientId: string, afterSeq: number, limit: number): Promise<StoredEvent[]>
  /** The highest seq stored for a session (0 when none). */
  lastSeq(clientId: string): Promise<number>
  /**
   * lastSeq of many sessions in one read (sessions with no events may be absent): lets an idle
   * consumer check hundreds of sessions for news with one statement instead of one each.
   */
  lastSeqs?(clientIds: readonly string[]): Promise<Map<string, number>>
  /** Called in-process after every append that stored something; returns an unsubscribe function. */
  subscribe(listener: (events: StoredEvent[]) => void): () => void
  /** Deletes events older than the retention; returns how many went. */
  purge(olderThan: Date): Promise<number>
  close(): Promise<void>
}

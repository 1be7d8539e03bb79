// The outbound queue: sends accepted with `queue: true` while their session was not open, kept
// (sealed) until it is, then sent in order. Postgres (postgres.ts) or local files (file.ts).
import type { SendRequest } from '../../schemas/send.js'

export interface QueuedSend {
  seq: number
  messageId: string
  request: SendRequest
}

export interface QueueEntryState {
  state: 'queued' | 'sending' | 'failed'
  error: string | null
  createdAt: Date
}

/** How long a claimed entry stays claimed: an instance that died mid-send hands it on after this. */
export const QUEUE_CLAIM_MS = 2 * 60_000

export interface QueueStore {
  enqueue(clientId: string, messageId: string, request: SendRequest): Promise<void>
  /** Entries of the session not yet sent or failed. */
  waiting(clientId: string): Promise<number>
  /** Claims the oldest waiting entry, unless an older one is being sent (order is kept). */
  claim(clientId: string): Promise<QueuedSend | null>
  /** Sent: the message store has it now. */
  done(clientId: string, seq: number): Promise<void>
  /** Not sendable: kept with the reason (GET /messages/:id shows it) until the retention ends. */
  fail(clientId: string, seq: number, reason: string): Promise<void>
  /** Not sent (the session closed): back to waiting, first in line. */
  unclaim(clientId: string, seq: number): Promise<void>
  get(clientId: string, messageId: string): Promise<QueueEntryState | null>
  /** Which of these sessions have entries waiting. */
  withWork(clientIds: readonly string[]): Promise<string[]>
  purge(before: Date): Promise<number>
}

// The message store's one narrow contract, implemented by Postgres (postgres.ts) and local files
// (file.ts): messages sent through this server (answering retry receipts, replies, edits, status) and
// messages received (replies, reactions, read receipts, media download), kept MESSAGE_RETENTION_DAYS.
import { proto, type WAMessage } from '@whiskeysockets/baileys'

export const Status = proto.WebMessageInfo.Status
/** Baileys' status numbers: ERROR 0, PENDING 1, SERVER_ACK 2, DELIVERY_ACK 3, READ 4, PLAYED 5. */
export type StatusCode = number

export const STATUS_NAMES = ['failed', 'pending', 'sent', 'delivered', 'read', 'played'] as const
export type StatusName = (typeof STATUS_NAMES)[number]
export const statusName = (code: StatusCode): StatusName => STATUS_NAMES[code] ?? 'pending'

export interface StatusTimes {
  sentAt: Date | null
  deliveredAt: Date | null
  readAt: Date | null
  playedAt: Date | null
  failedAt: Date | null
}

export interface StoredMessage extends StatusTimes {
  clientId: string
  id: string
  fromMe: boolean
  /** The full message (key, content, timestamp). */
  message: WAMessage
  status: StatusCode
  statusReason: string | null
  createdAt: Date
}

export interface StatusUpdate {
  id: string
  status: StatusCode
  reason?: string | null
  at: Date
}

/**
 * The next status of a message: it only moves forward (pending -> sent -> delivered -> read ->
 * played); failed sticks, and only replaces a status before delivered.
 */
export function nextStatus(current: StatusCode, incoming: StatusCode): StatusCode {
  if (current === Status.ERROR) return current
  if (incoming === Status.ERROR) return current < Status.DELIVERY_ACK ? Status.ERROR : current
  return Math.max(current, incoming)
}

/** The status timestamps after an update (each set once, when its status is first reached). */
export function nextTimes(times: StatusTimes, status: StatusCode, at: Date): StatusTimes {
  const out = { ...times }
  if (status === Status.ERROR) out.failedAt ??= at
  if (status >= Status.SERVER_ACK) out.sentAt ??= at
  if (status >= Status.DELIVERY_ACK) out.deliveredAt ??= at
  if (status >= Status.READ) out.readAt ??= at
  if (status >= Status.PLAYED) out.playedAt ??= at
  return out
}

export interface MessageStore {
  readonly mode: 'postgres' | 'file'
  /** Stores a message; a message already stored keeps its content, its status only moves forward. */
  save(clientId: string, message: WAMessage, status: { status: StatusCode; reason?: string | null; at: Date }): Promise<void>
  get(clientId: string, id: string): Promise<StoredMessage | null>
  /** Applies status updates to stored messages (unknown ids are ignored). */
  updateStatus(clientId: string, updates: StatusUpdate[]): Promise<void>
  /** Removes messages stored before `before`; returns how many. */
  purge(before: Date): Promise<number>
}

// Pure functions from what Baileys reports to the bodies of events (docs/events.md shows each one).
// Contact phone numbers go into the bodies (they are the consumer's data), never into logs.
import { isJidBroadcast, isJidStatusBroadcast, proto, toNumber, type WAMessage } from '@whiskeysockets/baileys'
import type { SessionState } from '../lib/session-states.js'
import { addressesOf } from './addresses.js'
import { contentOf } from './content.js'
import type { NewEvent } from './types.js'

/** The download route of a message's media (src/routes/whatsapp/messages.ts). */
export function mediaUrl(clientId: string, messageId: string): string {
  return `/api/whatsapp/messages/${encodeURIComponent(messageId)}/media?clientId=${encodeURIComponent(clientId)}`
}

/** The dedupe key of a received message: WhatsApp may offer it again, and Baileys reports it twice. */
export const receivedKey = (remoteJid: string, id: string) => `message.received:${remoteJid}:${id}`

const isoOfSeconds = (t: WAMessage['messageTimestamp'], fallback: Date): string => {
  const seconds = t === null || t === undefined ? 0 : toNumber(t)
  return (seconds > 0 ? new Date(seconds * 1000) : fallback).toISOString()
}

/**
 * The message.received event of a message, or null when there is none: no content (not decrypted),
 * status updates (status@broadcast), broadcast lists, protocol traffic.
 */
export function messageReceived(clientId: string, message: WAMessage, now: Date = new Date()): NewEvent | null {
  const { key } = message
  const remoteJid = key.remoteJid
  if (!key.id || !remoteJid || isJidStatusBroadcast(remoteJid) || isJidBroadcast(remoteJid)) return null
  const content = contentOf(message.message)
  if (!content) return null
  const timestamp = isoOfSeconds(message.messageTimestamp, now)
  const data: Record<string, unknown> = {
    id: key.id,
    ...addressesOf(key),
    fromMe: Boolean(key.fromMe),
    pushName: message.pushName ?? null,
    timestamp,
    type: content.type,
    text: content.text,
    quoted: content.quoted,
    media: content.media ? { ...content.media, mediaUrl: mediaUrl(clientId, key.id) } : null,
    ...content.extra,
  }
  return { type: 'message.received', timestamp, data, dedupeKey: receivedKey(remoteJid, key.id) }
}

export const MESSAGE_STATUSES = ['sent', 'delivered', 'read', 'played', 'failed'] as const
export type MessageStatus = (typeof MESSAGE_STATUSES)[number]

const S = proto.WebMessageInfo.Status
/** Baileys' numeric status as an event status; PENDING (still on its way to the server) is none. */
export function statusOf(code: number | null | undefined): MessageStatus | null {
  switch (code) {
    case S.SERVER_ACK: return 'sent'
    case S.DELIVERY_ACK: return 'delivered'
    case S.READ: return 'read'
    case S.PLAYED: return 'played'
    case S.ERROR: return 'failed'
    default: return null
  }
}

/** A message this account sent changed status for one recipient (the chat in 1:1, a member in a group). */
export function messageStatus(input: { messageId: string; chat: string; recipient: string; status: MessageStatus; at: Date; reason?: string | null }): NewEvent {
  return {
    type: 'message.status',
    timestamp: input.at.toISOString(),
    data: { messageId: input.messageId, chat: input.chat, recipient: input.recipient, status: input.status, reason: input.reason ?? null },
    dedupeKey: `message.status:${input.chat}:${input.messageId}:${input.recipient}:${input.status}`,
  }
}

export function sessionStatus(change: { state: SessionState; prev: SessionState; reason: string | null; code: number | null }, at: Date): NewEvent {
  return {
    type: 'session.status',
    timestamp: at.toISOString(),
    data: { state: change.state, previous: change.prev, reason: change.reason, code: change.code },
  }
}

export function sessionQr(qr: { value: string; expiresAt: Date }, at: Date): NewEvent {
  return { type: 'session.qr', timestamp: at.toISOString(), data: { qr: qr.value, expiresAt: qr.expiresAt.toISOString() } }
}

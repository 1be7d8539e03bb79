// Schemas of the message routes: POST /send (its body in send.ts), the status of a message, the
// download of its media, and the number check.
import { Type } from '@sinclair/typebox'
import { ClientId, Nullable, NullableTimestamp, StringEnum, Timestamp } from './common.js'

export { SendBody, SendResponse } from './send.js'

export const SendHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      pattern: '^[\\x21-\\x7e]{1,255}$',
      description: 'Makes the send idempotent for 24 h (per API key and session): a repeat returns the first answer and sends nothing. 1-255 visible ASCII characters; a UUID is a good choice.',
      examples: ['5f0c7f7e-8a43-4a39-9b55-2d2c4b1f2a10'],
    }),
  ),
})

export const MessageParams = Type.Object(
  { messageId: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$', examples: ['3EB0C431C26A1916E2A8'] }) },
  { additionalProperties: false },
)

export const MESSAGE_STATUSES = ['pending', 'sent', 'delivered', 'read', 'played', 'failed'] as const

export const MessageStatusResponse = Type.Object(
  {
    clientId: Type.String(),
    messageId: Type.String(),
    chat: Nullable(Type.String({ description: 'The chat JID (null while queued)' })),
    fromMe: Type.Boolean({ description: 'Sent by this account (false: received)' }),
    type: Nullable(Type.String({ description: 'The content kind, e.g. extendedTextMessage, imageMessage (null while queued)' })),
    status: StringEnum(MESSAGE_STATUSES, {
      description: 'pending (queued, or handed to WhatsApp without its ack) -> sent (WhatsApp\'s server has it) -> delivered -> read -> played (voice notes), or failed',
    }),
    reason: Nullable(Type.String({ description: 'Why it failed' })),
    hasMedia: Type.Boolean(),
    createdAt: Timestamp,
    sentAt: NullableTimestamp,
    deliveredAt: NullableTimestamp,
    readAt: NullableTimestamp,
    playedAt: NullableTimestamp,
    failedAt: NullableTimestamp,
  },
  {
    examples: [{
      clientId: 'rafi-scheme-manager', messageId: '3EB0C431C26A1916E2A8', chat: '14155550123@s.whatsapp.net', fromMe: true,
      type: 'extendedTextMessage', status: 'read', reason: null, hasMedia: false, createdAt: '2025-01-01T12:00:00.000Z',
      sentAt: '2025-01-01T12:00:00.100Z', deliveredAt: '2025-01-01T12:00:01.000Z', readAt: '2025-01-01T12:03:00.000Z', playedAt: null, failedAt: null,
    }],
  },
)

export const MediaBytes = Type.Unsafe<Buffer>({ type: 'string', format: 'binary' })

export const NumbersQuery = Type.Object(
  {
    phones: Type.String({ minLength: 1, maxLength: 2000, description: 'Phone numbers in international format, comma-separated (at most 50)', examples: ['+14155550123,+447700900123'] }),
    clientId: Type.Optional(ClientId),
  },
  { additionalProperties: false },
)

export const NumbersResponse = Type.Object(
  {
    clientId: Type.String(),
    results: Type.Array(
      Type.Object({
        input: Type.String(),
        exists: Type.Boolean(),
        jid: Nullable(Type.String({ description: 'The JID to send to, when the number is on WhatsApp' })),
      }),
    ),
  },
  { examples: [{ clientId: 'rafi-scheme-manager', results: [{ input: '+14155550123', exists: true, jid: '14155550123@s.whatsapp.net' }] }] },
)

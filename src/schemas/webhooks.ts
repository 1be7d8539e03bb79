// Schemas of the webhook routes: a session's own webhook, its dead letters and their redelivery.
import { Type } from '@sinclair/typebox'
import { EVENT_TYPES } from '../events/types.js'
import { FILTER_ENTRY_PATTERN } from '../webhooks/filter.js'
import { ClientId, Nullable, StringEnum, Timestamp } from './common.js'

const EventFilter = Type.Array(Type.String({ pattern: FILTER_ENTRY_PATTERN, maxLength: 64 }), {
  maxItems: 50,
  description: `Event types sent to this webhook (${EVENT_TYPES.join(', ')}); "message.*" matches a prefix, "*" or an empty list everything`,
  examples: [['message.*', 'session.status']],
})

export const WebhookBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048, description: 'http(s) URL the events are POSTed to; no user:password@', examples: ['https://example.com/whatsapp/events'] }),
    secret: Type.Optional(Type.String({ maxLength: 200, description: 'Standard Webhooks secret (whsec_ + base64 of 24-64 bytes); omitted: one is generated and returned once as generatedSecret' })),
    events: Type.Optional(EventFilter),
    headers: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 1000 }), {
      description: 'Extra headers sent with every request (at most 20; not hop-by-hop, webhook-*, authorization, x-api-key, cookie or user-agent)',
      examples: [{ 'x-tenant': 'acme' }],
    })),
  },
  { additionalProperties: false },
)

export const WebhookResponse = Type.Object(
  {
    clientId: Type.String(),
    url: Type.String(),
    secret: Type.String({ description: 'The secret, masked (whsec_…last4)' }),
    generatedSecret: Type.Optional(Type.String({ description: 'Only in the answer to a PUT without secret: the generated secret, shown this once' })),
    events: Nullable(Type.Array(Type.String(), { description: 'The filter; null = every event' })),
    headers: Type.Record(Type.String(), Type.String()),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  {
    examples: [{
      clientId: 'rafi-scheme-manager', url: 'https://example.com/whatsapp/events', secret: 'whsec_…b2c=', events: ['message.*'],
      headers: { 'x-tenant': 'acme' }, createdAt: '2025-01-01T12:00:00.000Z', updatedAt: '2025-01-01T12:00:00.000Z',
    }],
  },
)

export const DeliveriesQuery = Type.Object(
  {
    clientId: Type.Optional(ClientId),
    status: Type.Optional(StringEnum(['failed', 'queued'] as const, { description: 'failed (dead letters) or queued (waiting for redelivery); default both' })),
  },
  { additionalProperties: false },
)

const Delivery = Type.Object({
  endpoint: StringEnum(['global', 'session'] as const, { description: 'global = WEBHOOK_URL; session = the session\'s own webhook' }),
  eventId: Type.String(),
  seq: Type.Integer(),
  type: Type.String(),
  attempts: Type.Integer(),
  lastError: Type.String({ description: 'e.g. "HTTP 400", "timeout", "ECONNREFUSED"' }),
  lastStatus: Nullable(Type.Integer({ description: 'The consumer\'s last HTTP status, null when it did not answer' })),
  status: StringEnum(['failed', 'queued'] as const),
  failedAt: Timestamp,
})

export const DeliveriesResponse = Type.Object(
  { clientId: Type.String(), deliveries: Type.Array(Delivery) },
  {
    examples: [{
      clientId: 'rafi-scheme-manager',
      deliveries: [{ endpoint: 'global', eventId: 'evt_01jd8x2k7m3n4p5q6r7s8t9v0w', seq: 42, type: 'message.received', attempts: 1, lastError: 'HTTP 400', lastStatus: 400, status: 'failed', failedAt: '2025-01-01T12:00:00.000Z' }],
    }],
  },
)

export const RedeliverBody = Type.Object(
  {
    clientId: Type.Optional(ClientId),
    eventIds: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 1000, description: 'The dead letters to send again; omitted: every failed one of the session' })),
  },
  { additionalProperties: false },
)

export const RedeliverResponse = Type.Object(
  { clientId: Type.String(), requeued: Type.Integer(), eventIds: Type.Array(Type.String()) },
  { examples: [{ clientId: 'rafi-scheme-manager', requeued: 1, eventIds: ['evt_01jd8x2k7m3n4p5q6r7s8t9v0w'] }] },
)

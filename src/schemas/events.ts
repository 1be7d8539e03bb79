// Schemas of the event routes: the pull API (GET /events) and the live stream (GET /events/stream).
import { Type } from '@sinclair/typebox'
import { EVENT_TYPES } from '../events/types.js'
import { EVENT_ID_PATTERN } from '../events/ids.js'
import { ClientId, StringEnum, Timestamp } from './common.js'

export const EVENTS_MAX_LIMIT = 1000

const After = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Return events with a larger seq (0: from the oldest kept)', examples: [41] })

export const EventsQuery = Type.Object(
  {
    clientId: Type.Optional(ClientId),
    after: Type.Optional(After),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: EVENTS_MAX_LIMIT, default: 100, description: `At most this many events (1-${EVENTS_MAX_LIMIT})` })),
  },
  { additionalProperties: false },
)

export const StreamQuery = Type.Object({ clientId: Type.Optional(ClientId), after: Type.Optional(After) }, { additionalProperties: false })

export const StreamHeaders = Type.Object({
  'last-event-id': Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'Resume after this seq (browsers send it when they reconnect); wins over ?after=' })),
})

export const StoredEventSchema = Type.Object(
  {
    id: Type.String({ pattern: EVENT_ID_PATTERN, description: 'Stable id, the same on every delivery (the webhook-id)' }),
    type: StringEnum(EVENT_TYPES),
    clientId: Type.String(),
    seq: Type.Integer({ minimum: 1, description: 'Per session, from 1, without gaps' }),
    timestamp: Timestamp,
    data: Type.Object({}, { additionalProperties: true, description: 'The body of the event; see docs/events.md for each type' }),
  },
  {
    examples: [{
      id: 'evt_01JD7X2K4M8Q9R3S5T6V7W8X9Y', type: 'message.received', clientId: 'rafi-scheme-manager', seq: 42, timestamp: '2025-01-01T12:00:00.000Z',
      data: { id: '3EB0C431C26A1916E2A8', type: 'text', text: 'hello', chat: { jid: '14155550123@s.whatsapp.net', phone: '+14155550123' } },
    }],
  },
)

export const EventsResponse = Type.Object({
  clientId: Type.String(),
  events: Type.Array(StoredEventSchema),
  lastSeq: Type.Integer({ minimum: 0, description: 'The highest seq stored for the session (0: none yet)' }),
  next: Type.Integer({ minimum: 0, description: 'Pass as ?after= to read on; equals lastSeq once everything was read' }),
})

export const EventStreamBytes = Type.String({ description: 'text/event-stream: `id: <seq>`, `event: <type>`, `data: <the event as JSON>`; a comment line every 15 s' })

// Schemas of the multi-session routes (/api/whatsapp/sessions...) and the stored-session listing.
import { Type, type Static } from '@sinclair/typebox'
import { ClientId, Nullable, SessionStateSchema, StringEnum, Timestamp } from './common.js'
import { SESSION_STATES } from '../lib/session-states.js'
import { ResumeProgressSchema } from './ops.js'

export const StoredSessionSchema = Type.Object({
  clientId: Type.String(),
  status: StringEnum(['active', 'inactive', 'logged_out']),
  jid: Nullable(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  location: StringEnum(['file', 'postgres']),
  running: Type.Boolean({ description: 'A session for it runs on this server' }),
  state: Type.Unsafe<Static<typeof SessionStateSchema> | null>({
    type: ['string', 'null'],
    enum: [...SESSION_STATES, null],
    description: 'Its live state when running',
  }),
  holder: Nullable(Type.String({ description: 'The instance holding the session\'s lease (its id, as in session-info lease.owner); null when nobody does, or without the lease (file mode, SESSION_LEASE=off)' })),
})

export const SessionsListResponse = Type.Object(
  {
    storage: StringEnum(['file', 'postgres']),
    sessions: Type.Array(StoredSessionSchema),
    resume: ResumeProgressSchema,
  },
  {
    examples: [
      {
        storage: 'file',
        sessions: [
          { clientId: 'rafi-scheme-manager', status: 'active', jid: '14155550123:7@s.whatsapp.net', createdAt: '2025-01-01T11:00:00.000Z', updatedAt: '2025-01-01T12:00:00.000Z', location: 'file', running: true, state: 'open', holder: null },
        ],
        resume: { status: 'done', total: 1, done: 1, failed: [], startedAt: '2025-01-01T12:00:00.000Z', finishedAt: '2025-01-01T12:00:01.000Z' },
      },
    ],
  },
)

export const CreateSessionBody = Type.Object({ clientId: ClientId }, { additionalProperties: false })
export const CreateSessionResponse = Type.Object(
  { clientId: Type.String(), state: SessionStateSchema, startedAt: Timestamp },
  { examples: [{ clientId: 'second-shop', state: 'connecting', startedAt: '2025-01-01T12:00:00.000Z' }] },
)

export const ClientIdParams = Type.Object({ clientId: ClientId }, { additionalProperties: false })
export const DeleteSessionResponse = Type.Object(
  { clientId: Type.String(), wasRunning: Type.Boolean(), hadStoredData: Type.Boolean() },
  { examples: [{ clientId: 'second-shop', wasRunning: true, hadStoredData: true }] },
)

// Schemas of the multi-session routes (/api/whatsapp/sessions...) and the stored-session listing.
import { Type, type Static } from '@sinclair/typebox'
import { ClientId, Nullable, StringEnum, Timestamp } from './common.js'
import { SESSION_STATES } from '../lib/session-states.js'
import { ResumeProgressSchema } from './ops.js'
import { SessionStateSchema } from './whatsapp.js'

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
          { clientId: 'rafi-scheme-manager', status: 'active', jid: '14155550123:7@s.whatsapp.net', createdAt: '2025-01-01T11:00:00.000Z', updatedAt: '2025-01-01T12:00:00.000Z', location: 'file', running: true, state: 'open' },
        ],
        resume: { status: 'done', total: 1, done: 1, failed: [], startedAt: '2025-01-01T12:00:00.000Z', finishedAt: '2025-01-01T12:00:01.000Z' },
      },
    ],
  },
)

export const CleanupOldBody = Type.Object(
  {
    olderThanDays: Type.Integer({ minimum: 1, maximum: 3650, default: 30, description: 'Delete sessions not updated for this many days' }),
    dryRun: Type.Boolean({ default: true, description: 'Only report what would be deleted (default true: deleting is explicit)' }),
  },
  { additionalProperties: false },
)
export type CleanupOldBody = Static<typeof CleanupOldBody>

export const CleanupOldResponse = Type.Object(
  {
    dryRun: Type.Boolean(),
    cutoff: Timestamp,
    removed: Type.Array(Type.Object({ clientId: Type.String(), status: Type.String(), updatedAt: Timestamp })),
    skippedRunning: Type.Array(Type.String({ description: 'Old but running (here, or on another instance holding its lease): never removed' })),
  },
  { examples: [{ dryRun: true, cutoff: '2024-12-02T12:00:00.000Z', removed: [{ clientId: 'old-shop', status: 'logged_out', updatedAt: '2024-10-01T09:00:00.000Z' }], skippedRunning: [] }] },
)

export const CreateSessionBody = Type.Object({ clientId: ClientId }, { additionalProperties: false })
export type CreateSessionBody = Static<typeof CreateSessionBody>
export const CreateSessionResponse = Type.Object(
  { clientId: Type.String(), state: SessionStateSchema, startedAt: Timestamp },
  { examples: [{ clientId: 'second-shop', state: 'connecting', startedAt: '2025-01-01T12:00:00.000Z' }] },
)

export const ClientIdParams = Type.Object({ clientId: ClientId })
export type ClientIdParams = Static<typeof ClientIdParams>
export const DeleteSessionResponse = Type.Object(
  { clientId: Type.String(), wasRunning: Type.Boolean(), hadStoredData: Type.Boolean() },
  { examples: [{ clientId: 'second-shop', wasRunning: true, hadStoredData: true }] },
)

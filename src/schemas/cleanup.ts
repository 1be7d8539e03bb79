// Schemas of the two cleanups: POST /cleanup-sessions (local files) and POST /cleanup-old-sessions
// (stored sessions).
import { Type } from '@sinclair/typebox'
import { StringEnum, Timestamp } from './common.js'

/** POST /cleanup-sessions takes no options: an empty JSON object, or no body. */
export const CleanupSessionsBody = Type.Object({}, { additionalProperties: false })

export const CleanupSessionsResponse = Type.Object(
  {
    removed: Type.Array(
      Type.Object({
        file: Type.String(),
        reason: StringEnum(['temp', 'corrupt', 'orphan']),
      }),
    ),
    kept: Type.Array(Type.String({ description: 'Files of running or stored sessions' })),
    errors: Type.Array(Type.Object({ file: Type.String(), message: Type.String() })),
  },
  {
    examples: [
      {
        removed: [{ file: 'old-client.json', reason: 'orphan' }, { file: 'default.json.tmp-123-ab', reason: 'temp' }],
        kept: ['default.json'],
        errors: [],
      },
    ],
  },
)

/** What POST /cleanup-old-sessions does when a field is omitted. */
export const CLEANUP_OLD_DEFAULTS = { olderThanDays: 30, dryRun: true } as const

export const CleanupOldBody = Type.Object(
  {
    olderThanDays: Type.Optional(Type.Integer({
      minimum: 1, maximum: 3650, default: CLEANUP_OLD_DEFAULTS.olderThanDays, description: 'Delete sessions not updated for this many days',
    })),
    dryRun: Type.Optional(Type.Boolean({
      default: CLEANUP_OLD_DEFAULTS.dryRun, description: 'Only report what would be deleted (default true: deleting is explicit). A JSON true or false.',
    })),
  },
  { additionalProperties: false },
)

export const CleanupOldResponse = Type.Object(
  {
    dryRun: Type.Boolean(),
    cutoff: Timestamp,
    removed: Type.Array(Type.Object({ clientId: Type.String(), status: Type.String(), updatedAt: Timestamp })),
    skippedRunning: Type.Array(Type.String({ description: 'Old but running (here, or on another instance holding its lease): never removed' })),
  },
  { examples: [{ dryRun: true, cutoff: '2024-12-02T12:00:00.000Z', removed: [{ clientId: 'old-shop', status: 'logged_out', updatedAt: '2024-10-01T09:00:00.000Z' }], skippedRunning: [] }] },
)

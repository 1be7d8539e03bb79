// Schemas of /health, /ready and /metrics.
import { Type } from '@sinclair/typebox'
import { Nullable, NullableTimestamp, StringEnum } from './common.js'

export const HealthResponse = Type.Object(
  { status: Type.Literal('ok'), uptimeSeconds: Type.Integer() },
  { examples: [{ status: 'ok', uptimeSeconds: 42 }] },
)

export const ResumeProgressSchema = Type.Object(
  {
    status: StringEnum(['idle', 'resuming', 'done'], {
      description: 'Stored sessions starting in the background after a restart: resuming until each had its first connection attempt',
    }),
    total: Type.Integer({ description: 'Sessions queued for resume (the default session included)' }),
    done: Type.Integer({ description: 'Sessions whose first attempt had an outcome (failures included)' }),
    failed: Type.Array(
      Type.Object({ clientId: Type.String(), code: Type.String(), reason: Type.String() }),
      { description: 'Sessions that could not be resumed (their stored state is unusable, or MAX_SESSIONS was reached); at most 100 listed' },
    ),
    startedAt: NullableTimestamp,
    finishedAt: NullableTimestamp,
  },
  { description: 'Background resume of the stored sessions' },
)

export const ReadyResponse = Type.Object(
  {
    status: StringEnum(['ready', 'degraded'], {
      description: 'degraded: the database is unreachable but sessions keep running on the file mirror',
    }),
    storage: StringEnum(['file', 'postgres']),
    databaseReachable: Nullable(Type.Boolean()),
    sessions: Type.Record(Type.String(), Type.Integer(), { description: 'Running sessions by state' }),
    resume: ResumeProgressSchema,
  },
  {
    examples: [{
      status: 'ready', storage: 'postgres', databaseReachable: true, sessions: { open: 120, standby: 380 },
      resume: { status: 'resuming', total: 500, done: 120, failed: [], startedAt: '2025-01-01T12:00:00.000Z', finishedAt: null },
    }],
  },
)

export const MetricsResponse = Type.String({ description: 'Prometheus text exposition format' })
